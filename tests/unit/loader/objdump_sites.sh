#!/bin/sh
# Lists the addresses (hex, one per line) of every `syscall` instruction that
# objdump's linear disassembly of $1 shows; written to $2. The loader tests
# use it as an independent expectation for the site finder.
set -eu
objdump="${OBJDUMP:-objdump}"
"$objdump" -d --no-show-raw-insn "$1" |
  awk '$2 == "syscall" && $1 ~ /:$/ { sub(":", "", $1); print $1 }' > "$2.tmp"
mv "$2.tmp" "$2"
