# vdso.cmake - builds the guest vDSO (vmm/vdso/guest/) and embeds it into
# hearth-vmm. Included by vmm/CMakeLists.txt; defines target
# hearth_vdso_image, a library holding the image's bytes (vdso/image.h).
#
# The vDSO is guest code: it is built with the host C compiler by a custom
# command, so that it never inherits the host build's flags (the sanitizers
# of an ASan build above all), as a freestanding shared object laid out by
# vdso.lds and versioned by vdso.map. embed.cmake then writes its bytes as
# a C array: nothing but CMake itself is needed for that.
set(HEARTH_VDSO_DIR ${CMAKE_CURRENT_LIST_DIR})
set(HEARTH_VDSO_OUT ${CMAKE_CURRENT_BINARY_DIR}/vdso)
set(HEARTH_VDSO_SO ${HEARTH_VDSO_OUT}/vdso.so)
set(HEARTH_VDSO_C ${HEARTH_VDSO_OUT}/vdso_image.c)

set(vdso_cflags
    -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -ffreestanding -fno-builtin
    -fno-stack-protector -fno-stack-clash-protection -fvisibility=hidden -U_FORTIFY_SOURCE
    -I${CMAKE_CURRENT_SOURCE_DIR})
# One PT_LOAD from the header on (vdso.lds); DT_HASH for musl, DT_GNU_HASH
# for glibc; the soname Linux's vDSO has; nothing left undefined.
set(vdso_ldflags
    -shared -nostdlib -Wl,-T,${HEARTH_VDSO_DIR}/guest/vdso.lds
    -Wl,--version-script=${HEARTH_VDSO_DIR}/guest/vdso.map -Wl,--hash-style=both
    -Wl,-soname=linux-vdso.so.1 -Wl,--no-undefined -Wl,--build-id=sha1 -Wl,--eh-frame-hdr
    -Wl,-z,max-page-size=4096 -Wl,--strip-all)

add_custom_command(
  OUTPUT ${HEARTH_VDSO_SO}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${HEARTH_VDSO_OUT}
  COMMAND ${CMAKE_C_COMPILER} ${vdso_cflags} ${vdso_ldflags} -o ${HEARTH_VDSO_SO}
          ${HEARTH_VDSO_DIR}/guest/vdso.c
  DEPENDS ${HEARTH_VDSO_DIR}/guest/vdso.c ${HEARTH_VDSO_DIR}/guest/vdso.lds
          ${HEARTH_VDSO_DIR}/guest/vdso.map ${HEARTH_VDSO_DIR}/vvar.h
          ${CMAKE_CURRENT_SOURCE_DIR}/mem/layout.h
  COMMENT "Building the guest vDSO"
  VERBATIM)

add_custom_command(
  OUTPUT ${HEARTH_VDSO_C}
  COMMAND ${CMAKE_COMMAND} -DIN=${HEARTH_VDSO_SO} -DOUT=${HEARTH_VDSO_C} -P
          ${HEARTH_VDSO_DIR}/embed.cmake
  DEPENDS ${HEARTH_VDSO_SO} ${HEARTH_VDSO_DIR}/embed.cmake
  COMMENT "Embedding the guest vDSO"
  VERBATIM)

add_library(hearth_vdso_image STATIC ${HEARTH_VDSO_C})
target_include_directories(hearth_vdso_image PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
