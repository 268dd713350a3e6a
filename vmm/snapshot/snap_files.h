/* snap_files.h - why the files section could not be saved or loaded:
 * snap_save_files / snap_load_files (snap_parts.h) log nothing, and a
 * refusal such as "fd 5: an unlinked /tmp file is still open" must reach
 * the one who asked for the snapshot. */
#ifndef HEARTH_VMM_SNAPSHOT_SNAP_FILES_H
#define HEARTH_VMM_SNAPSHOT_SNAP_FILES_H

/* A one-line reason for the last failure of snap_save_files or
 * snap_load_files on this thread ("" when there is none). */
const char *snap_files_reason(void);

#endif
