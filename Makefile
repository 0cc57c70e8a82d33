# hedgehog build.
#
#   make            release build: build/hedgehog (-O2, warnings are errors)
#   make test       unit + integration tests; last line "N passed, N failed"
#   make demo       backtest on bundled NIFTY bars, report in build/demo/
#   make bench      benchmarks (figures printed)
#   make san        the whole build under ASan + UBSan in build/san/
#   make fuzz       libFuzzer targets in build/fuzz/ (clang)
#
# Sources are discovered: every src/**/*.c goes into libhh.a except
# src/app/main.c; every tests/unit/test_*.c is one test program.
#
# Building anything first runs scripts/deps.sh (once per build tree), which
# installs what is missing with apt (sudo when not root) and npm.  The
# compiler and linker flags come from pkg-config when a recipe needs them,
# after deps.sh, never when this file is read: on a fresh machine neither
# pkg-config nor the -dev packages are there yet.  A library pkg-config
# cannot find stops the build with its name and Debian package.

BUILD    ?= build
CC       ?= cc
OPT      ?= -O2
SANFLAGS ?=

# pkg-config modules, and the Debian package of each (named when missing)
PKGS     := json-c yaml-0.1 sqlite3 libcrypto libmicrohttpd libcurl libwebsockets rdkafka
TESTPKGS := cmocka
deb.json-c    := libjson-c-dev
deb.yaml-0.1  := libyaml-dev
deb.sqlite3   := libsqlite3-dev
deb.libcrypto := libssl-dev
deb.cmocka    := libcmocka-dev
deb.libmicrohttpd := libmicrohttpd-dev
deb.libcurl   := libcurl4-openssl-dev
deb.libwebsockets := libwebsockets-dev
deb.rdkafka   := librdkafka-dev

# $(call pkg,OPTIONS,MODULES): pkg-config's flags, or the build stops naming
# the missing modules.  Recursive variables below: expanded in recipes only.
pkg-missing = $(strip $(foreach m,$1,$(if $(shell pkg-config --exists $m 2>/dev/null && echo y),,$m)))
pkg = $(if $(shell command -v pkg-config),,$(error pkg-config not found (Debian package \
        pkg-config): run scripts/deps.sh))$(if $(call pkg-missing,$2),$(error missing \
        $(foreach m,$(call pkg-missing,$2),$m (Debian package $(deb.$m))): run scripts/deps.sh)) \
        $(shell pkg-config $1 $2)

WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
            -Werror
CFLAGS    = -std=gnu11 $(OPT) -g $(WARN) $(SANFLAGS) -D_GNU_SOURCE -Isrc \
            $(call pkg,--cflags,$(PKGS))
LDLIBS    = $(call pkg,--libs,$(PKGS)) -lpthread -lm
TESTLIBS  = $(call pkg,--libs,$(TESTPKGS))
LDFLAGS  := $(SANFLAGS) -Wl,--build-id=sha1

LIB_SRC  := $(filter-out src/app/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRC:= $(sort $(wildcard bench/*.c))
BENCH_BIN:= $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
DEPS_OK  := $(BUILD)/.deps-ok

.PHONY: all test unit demo bench san fuzz clean deps mutants test-tools
.DEFAULT_GOAL := all

all: $(BUILD)/hedgehog

# Dependencies are checked once per build tree; scripts/deps.sh is
# idempotent and quick when everything is present.
$(DEPS_OK): scripts/deps.sh
	@scripts/deps.sh
	@mkdir -p $(@D) && touch $@

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: %.c $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libhh.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hedgehog: $(BUILD)/obj/src/app/main.o $(BUILD)/libhh.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The chart library of report.html (lightweight-charts from npm, pinned by
# package-lock.json), read by the binary at run time from
# <dir of the binary>/share/hedgehog/ (see src/app/report.h).
CHARTS_SRC := node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js
CHARTS_JS  := $(BUILD)/share/hedgehog/lightweight-charts.js
all test demo: $(CHARTS_JS)
$(CHARTS_JS): package-lock.json $(DEPS_OK)
	@[ -f $(CHARTS_SRC) ] && [ ! package-lock.json -nt node_modules ] || scripts/deps.sh
	@mkdir -p $(@D)
	cp $(CHARTS_SRC) $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libhh.a tests/unit/testutil.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libhh.a $(LDLIBS) $(TESTLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libhh.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libhh.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libhh.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libhh.a $(LDLIBS)

# The local Kite Connect server the adapter's tests run against (tests/kite/).
KITE_SRC := $(sort $(wildcard tests/kite/*.c))
KITE_SRV := $(BUILD)/kite/kite_server
$(KITE_SRV): $(KITE_SRC) tests/kite/ks.h $(BUILD)/libhh.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/kite -o $@ $(KITE_SRC) $(BUILD)/libhh.a $(LDLIBS) \
	  $(shell pkg-config --libs libssl 2>/dev/null)
test bench: $(KITE_SRV)

test: $(BUILD)/hedgehog $(UNIT_BIN) $(TOOL_BIN)
	@BUILD=$(BUILD) tests/run.sh

demo: $(BUILD)/hedgehog
	@BUILD=$(BUILD) scripts/demo.sh

# What the integration tests run besides the binary (scripts/mutants.sh).
test-tools: $(BUILD)/hedgehog $(TOOL_BIN) $(KITE_SRV)

# Every safety invariant must be able to fail: each tests/mutants/*.patch,
# a deliberate defect, must be caught by its tests (scripts/mutants.sh).
mutants:
	@scripts/mutants.sh

bench: $(BUILD)/hedgehog $(BENCH_BIN)
	@BUILD=$(BUILD) bench/run.sh

san:
	$(MAKE) BUILD=build/san OPT=-O1 \
	  SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
fuzz: $(FUZZ_BIN)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(DEPS_OK)
	@mkdir -p $(@D)
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc \
	  -fsanitize=fuzzer,address,undefined $(call pkg,--cflags,$(PKGS)) \
	  -o $@ $< $(LIB_SRC) $(LDLIBS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/src/app/main.d
