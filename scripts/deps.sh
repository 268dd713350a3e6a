#!/usr/bin/env bash
# deps.sh - installs the Debian packages hearth needs to build, test and
# benchmark. Idempotent: when everything is installed it only asks dpkg
# (one dpkg-query call, well under a second) and changes nothing; otherwise it
# runs apt-get update and installs just the missing packages, which needs root.
set -euo pipefail

packages=(
  build-essential gcc make cmake pkg-config # toolchain
  clang-format                              # make format
  libuv1-dev libcjson-dev node-llhttp       # hearthd: event loop, JSON, HTTP parser sources
  libseccomp-dev                            # hearth-vmm's own confinement
  libarchive-dev libsodium-dev              # images: tar, ed25519 signatures
  libssl-dev                                # hearth-vmm: SHA-256 of the syscall-site cache
  libzydis-dev                              # x86 decoder for syscall-site finding
  libcmocka-dev                             # unit and integration tests
  musl-tools                                # musl-gcc: test guests built against musl
  runsc                                     # gVisor, the comparison in bench/
  python3                                   # the python image and its shim
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: dpkg-query not found: hearth is built on Debian 12 (bookworm);" \
    "install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

# Lists the packages dpkg does not report as fully installed.
missing_packages() {
  local installed
  # Unknown packages make dpkg-query exit 1 and complain on stderr; they are
  # simply absent from the list of installed ones.
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null |
    awk '$2 == "installed" { print $1 }' || true)
  local p
  for p in "${packages[@]}"; do
    grep -qxF "$p" <<<"$installed" || echo "$p"
  done
}

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: installing them needs root: run 'sudo scripts/deps.sh'" \
    "(or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

mapfile -t still_missing < <(missing_packages)
if [ "${#still_missing[@]}" -ne 0 ]; then
  echo "deps.sh: still missing after apt-get install: ${still_missing[*]}" >&2
  exit 1
fi
echo "deps.sh: installed ${missing[*]}" >&2
