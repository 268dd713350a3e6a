# Finds hearth's Debian dependencies; a missing one stops configuration with
# the name of the package that provides it (scripts/deps.sh installs them all).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config (or run scripts/deps.sh)")
endif()

function(hearth_pkg target module debian_package)
  pkg_check_modules(${target} IMPORTED_TARGET ${module})
  if(NOT ${target}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${debian_package} (or run scripts/deps.sh)")
  endif()
endfunction()

hearth_pkg(UV libuv libuv1-dev)
hearth_pkg(CJSON libcjson libcjson-dev)
hearth_pkg(SECCOMP libseccomp libseccomp-dev)
hearth_pkg(ARCHIVE libarchive libarchive-dev)
hearth_pkg(SODIUM libsodium libsodium-dev)
hearth_pkg(CRYPTO libcrypto libssl-dev)
# hearth-vmm links libcrypto's archive for SHA-256 only: libcrypto.so would
# cost every start ~0.5 ms of loading (vmm/loader/digest.c).
find_library(HEARTH_LIBCRYPTO_STATIC NAMES libcrypto.a HINTS ${CRYPTO_LIBRARY_DIRS})
if(NOT HEARTH_LIBCRYPTO_STATIC)
  message(FATAL_ERROR "libcrypto.a not found: apt-get install libssl-dev (or run scripts/deps.sh)")
endif()
add_library(hearth_crypto_static STATIC IMPORTED)
set_target_properties(hearth_crypto_static PROPERTIES IMPORTED_LOCATION ${HEARTH_LIBCRYPTO_STATIC}
                      INTERFACE_INCLUDE_DIRECTORIES "${CRYPTO_INCLUDE_DIRS}")
# hearth-vmm links libarchive's and libsodium's archives too: it only reads
# tar (libarchive.so would load libxml2, ICU and libstdc++: ~1.8 ms per
# start) and checks ed25519 signatures (images/CMakeLists.txt).
find_library(HEARTH_LIBARCHIVE_STATIC NAMES libarchive.a HINTS ${ARCHIVE_LIBRARY_DIRS})
find_library(HEARTH_LIBSODIUM_STATIC NAMES libsodium.a HINTS ${SODIUM_LIBRARY_DIRS})
if(NOT HEARTH_LIBARCHIVE_STATIC OR NOT HEARTH_LIBSODIUM_STATIC)
  message(FATAL_ERROR "libarchive.a or libsodium.a not found: apt-get install libarchive-dev libsodium-dev (or run scripts/deps.sh)")
endif()
add_library(hearth_archive_static STATIC IMPORTED)
set_target_properties(hearth_archive_static PROPERTIES IMPORTED_LOCATION ${HEARTH_LIBARCHIVE_STATIC}
                      INTERFACE_INCLUDE_DIRECTORIES "${ARCHIVE_INCLUDE_DIRS}")
add_library(hearth_sodium_static STATIC IMPORTED)
set_target_properties(hearth_sodium_static PROPERTIES IMPORTED_LOCATION ${HEARTH_LIBSODIUM_STATIC}
                      INTERFACE_INCLUDE_DIRECTORIES "${SODIUM_INCLUDE_DIRS}")
hearth_pkg(CMOCKA cmocka libcmocka-dev)

# Zydis ships CMake package files, not a pkg-config file.
find_package(zydis CONFIG QUIET)
if(NOT zydis_FOUND)
  message(FATAL_ERROR "Zydis not found: apt-get install libzydis-dev (or run scripts/deps.sh)")
endif()

# llhttp: Debian ships the generated C sources (node-llhttp); we build them as
# a static library of our own.
set(LLHTTP_SRC_DIR /usr/share/llhttp)
set(LLHTTP_INCLUDE_DIR /usr/share/include/llhttp)
if(NOT EXISTS ${LLHTTP_SRC_DIR}/llhttp.c OR NOT EXISTS ${LLHTTP_INCLUDE_DIR}/llhttp.h)
  message(FATAL_ERROR "llhttp sources not found in ${LLHTTP_SRC_DIR}: apt-get install node-llhttp (or run scripts/deps.sh)")
endif()
add_library(hearth_llhttp STATIC ${LLHTTP_SRC_DIR}/llhttp.c ${LLHTTP_SRC_DIR}/api.c
                                 ${LLHTTP_SRC_DIR}/http.c)
target_include_directories(hearth_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
# Generated third-party code: our warning flags are not its contract.
target_compile_options(hearth_llhttp PRIVATE -w)

find_program(MUSL_GCC musl-gcc)
