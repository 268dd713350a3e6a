/* packages.h - Debian packages into a staged tree: every path dpkg
 * installed for the package (/var/lib/dpkg/info/<pkg>.list, or
 * <pkg>:<arch>.list) that no exclude pattern matches, staged from the
 * host as it is (files with their modes and mtimes, symlinks with their
 * targets, directories). The merged-/usr links themselves (/bin, /lib...)
 * are left to the build. A listed path missing from the host fails the
 * build: the package is not installed whole. */
#ifndef HEARTH_IMAGES_TOOL_PACKAGES_H
#define HEARTH_IMAGES_TOOL_PACKAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/imgerr.h"
#include "stage.h"

#define PACKAGES_LIST_MAX (16u << 20) /* bytes of one package's file list */
#define PACKAGES_DPKG_INFO "/var/lib/dpkg/info"

/* True when the absolute guest path, or one of its parent directories,
 * matches one of the fnmatch(3) patterns (no FNM_PATHNAME: '*' crosses
 * '/'), e.g. "/usr/share/doc" or "/usr/lib/python3.11/lib-dynload/_test*". */
bool packages_excluded(char *const *patterns, size_t n, const char *path);

/* Stages package `name`; *paths counts the listed paths it staged. */
int packages_stage(struct stage *s, const char *name, char *const *excludes, size_t nexcludes,
                   size_t *paths, struct img_err *err);

#endif
