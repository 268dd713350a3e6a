/* image.h - the guest vDSO's ELF image, built from vmm/vdso/guest/ by the
 * host compiler and embedded into hearth-vmm as bytes (vdso.cmake). */
#ifndef HEARTH_VMM_VDSO_IMAGE_H
#define HEARTH_VMM_VDSO_IMAGE_H

#include <stddef.h>

/* The whole shared-object file: its one PT_LOAD starts at offset 0 with
 * p_vaddr 0 and covers the ELF header, so the file is also its memory
 * image from the vDSO's base on. */
extern const unsigned char vdso_image_bytes[];
extern const size_t vdso_image_size;

#endif
