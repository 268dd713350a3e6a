# hearth's two entry points, each doing all the set-up on a fresh Debian 12
# machine (missing packages, configure, build) before its job:
#   make run    build, then run the main job: `hearth run` invokes the example
#               python function in a microVM from the signed python image
#   make test   build and test twice: a normal build and an ASan+UBSan one
# Also: make build, make format, make format-check, make clean.
# CMake does the real work; this file only fixes the order and the flags.

SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE ?= cmake
CTEST ?= ctest

# -O2 -g, but not RelWithDebInfo's -DNDEBUG: assert() stays on in the VMM.
RELEASE_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo '-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g'
ASAN_FLAGS := -DCMAKE_BUILD_TYPE=Debug '-DCMAKE_C_FLAGS_DEBUG=-O1 -g' -DHEARTH_SANITIZE=ON
# Every sanitizer report fails the test that caused it.
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The main job: the build signs the base and python images with a key of its
# own ($(BUILD)/keys); `hearth run` verifies the python image, unpacks it once
# into $(BUILD)/.hearth, starts a microVM, loads examples/python-json and
# invokes it with RUN_EVENT. Override RUN_ARGS / RUN_EVENT to run something
# else, e.g. make run RUN_ARGS='--image $(BUILD)/images/base --trust
# $(BUILD)/keys --code DIR' RUN_EVENT='hi'.
RUN_ARGS ?= --image $(BUILD)/images/python --trust $(BUILD)/keys \
            --code examples/python-json --state-dir $(BUILD)/.hearth
RUN_EVENT ?= {"name": "hearth"}

C_SOURCE_DIRS := vmm guest-init images pool runtime tests bench examples common

.PHONY: all run test deps configure build test-release test-asan format format-check clean

all: build

deps:
	@scripts/deps.sh

configure: deps
	$(CMAKE) -S . -B $(BUILD) $(RELEASE_FLAGS)

build: configure
	$(CMAKE) --build $(BUILD) -j$(JOBS)

run: build
	printf '%s' '$(RUN_EVENT)' | $(BUILD)/runtime/hearth run $(RUN_ARGS)

# Both builds are tested even when the first fails, so one run shows all.
test: deps
	@rc=0; \
	$(MAKE) --no-print-directory test-release || rc=1; \
	$(MAKE) --no-print-directory test-asan || rc=1; \
	exit $$rc

test-release: build
	$(CTEST) --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-asan: deps
	$(CMAKE) -S . -B $(ASAN_BUILD) $(ASAN_FLAGS)
	$(CMAKE) --build $(ASAN_BUILD) -j$(JOBS)
	$(SANITIZER_ENV) $(CTEST) --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

# C sources of the tree, build directories excluded.
c_sources = find $(C_SOURCE_DIRS) -name '*.[ch]' -type f -print0 2>/dev/null

format:
	$(c_sources) | xargs -0 -r clang-format -i

format-check:
	$(c_sources) | xargs -0 -r clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
