/* fake_vfs.h - a stand-in for vmm/fs in the loader's tests: a few guest
 * paths naming host files (the test programs, a non-executable copy, a
 * directory, a file that is not an ELF, a dynamically linked program),
 * opened as descriptions whose pread fills only the first iovec so the
 * loader's short-read handling is exercised. */
#ifndef HEARTH_TESTS_FAKE_VFS_H
#define HEARTH_TESTS_FAKE_VFS_H

/* Descriptions opened and not yet released. */
extern int fake_vfs_open_files;
/* What the loader last passed to vfs_set_exe ("" when reset). */
extern char fake_vfs_exe[256];

/* Guest paths: "/bin/hello" (glibc static), "/bin/pie" (glibc static-PIE),
 * "/bin/dynamic" (this test, dynamically linked), "/bin/garbage" (a shell
 * script), "/bin/noexec" (mode 0644), "/etc" (a directory). */
void fake_vfs_setup(void);
void fake_vfs_teardown(void);

#endif
