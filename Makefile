# nesbridge: native messaging host, virtual NES card, tests.
# `make` builds; `make check` installs what it needs and runs every test;
# `make demo` runs the unlock end to end on the virtual card.

CC ?= cc
BUILD ?= build
PKGS := libpcsclite libcjson libcrypto

OPT ?= -O2
WARN := -Wall -Wextra -Werror -Wshadow -Wconversion -Wformat=2
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS_ALL := -std=c11 -D_DEFAULT_SOURCE $(OPT) -g $(WARN) $(HARDEN) \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now -Wl,--as-needed -pthread $(LDFLAGS)
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# Host modules; pcsc.c (the only user of winscard.h) and main.c are kept
# out of the library so unit tests link against a fake backend.
HOST_CORE := errors frame jsonguard hex apdu policy origin caller config log \
             session protocol dispatch cmd_readers cmd_card relay \
             base64 trust nonce script cmd_script pinpad watchdog transaction platform_posix
HOST_OBJS := $(HOST_CORE:%=$(BUILD)/host/%.o)
HOST_BIN := $(BUILD)/nesbridge-host

UNIT_TESTS := frame jsonguard hex apdu policy origin caller config errors protocol dispatch relay log platform \
              script trust oom watchdog
CARD_TESTS := sm card
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/check_%) $(CARD_TESTS:%=$(BUILD)/tests/check_%)
VCARD_LIB := $(BUILD)/vcard/card.o $(BUILD)/vcard/sm.o $(BUILD)/vcard/state.o

VCARD_BIN := $(BUILD)/nesbridge-vcard
VCARD_SRCS := vcard/main.c vcard/card.c vcard/state.c vcard/vpcd.c vcard/sm.c
# The card shares the host's strict hex, APDU and exact-read helpers.
VCARD_OBJS := $(VCARD_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/host/hex.o $(BUILD)/host/apdu.o \
              $(BUILD)/host/frame.o

IT_BINS := $(BUILD)/tests/it_host $(BUILD)/tests/it_card $(BUILD)/tests/it_script \
           $(BUILD)/tests/pcsc-probe $(BUILD)/tests/pcsc-apdu

.SECONDARY:

.PHONY: all check unit integration asan valgrind clean deps demo vcard-up vcard-down \
        js extension extension-dev install-user bench fuzz analyze integration-asan deb rpm win msi win-shim win-clang

DEV_ORIGINS ?= http://localhost:8443
NODE_DEPS := tests/browser/node_modules/.package-lock.json

SIGN_BIN := $(BUILD)/nesbridge-sign

all: $(HOST_BIN) $(VCARD_BIN) $(SIGN_BIN)

# The authority's signing tool: shares only base64 and key ids with the host.
$(SIGN_BIN): $(BUILD)/host/sign_tool.o $(BUILD)/host/base64.o $(BUILD)/host/trust.o $(BUILD)/host/platform_posix.o \
		$(BUILD)/host/hex.o $(BUILD)/host/log.o
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

$(BUILD)/host/%.o: host/%.c host/*.h | $(BUILD)/host
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/vcard/%.o: vcard/%.c vcard/*.h host/*.h | $(BUILD)/vcard
	$(CC) $(CFLAGS_ALL) -Ihost -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c $(wildcard tests/*.h) host/*.h | $(BUILD)/tests
	$(CC) $(CFLAGS_ALL) -Ihost -Ivcard -c $< -o $@

$(BUILD)/host $(BUILD)/vcard $(BUILD)/tests:
	mkdir -p $@

# The Linux browser table: one file for install.sh and doctor.
$(BUILD)/gen/browsers_linux.h: installer/browsers-linux.tsv installer/browsers-header.awk
	@mkdir -p $(dir $@)
	awk -f installer/browsers-header.awk installer/browsers-linux.tsv > $@.tmp && mv $@.tmp $@

$(BUILD)/host/doctor_unix.o: $(BUILD)/gen/browsers_linux.h
$(BUILD)/host/doctor_unix.o: CFLAGS_ALL += -I$(BUILD)/gen

$(HOST_BIN): $(HOST_OBJS) $(BUILD)/host/pcsc.o $(BUILD)/host/doctor.o $(BUILD)/host/doctor_unix.o \
		$(BUILD)/host/main.o
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

$(VCARD_BIN): $(VCARD_OBJS)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

$(BUILD)/tests/check_%: $(BUILD)/tests/check_%.o $(BUILD)/tests/fake_backend.o \
		$(BUILD)/tests/authority.o $(BUILD)/vcard/sm.o $(HOST_OBJS)
	$(CC) $(LDFLAGS_ALL) $^ $(CHECK_LIBS) $(LIBS) -o $@

# The out-of-memory test fails allocations of its own choosing.
$(BUILD)/tests/check_oom: LDFLAGS_ALL += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

# Card unit tests link the card's logic instead of the host's.
$(BUILD)/tests/check_sm $(BUILD)/tests/check_card: $(BUILD)/tests/check_%: $(BUILD)/tests/check_%.o \
		$(VCARD_LIB) $(BUILD)/host/hex.o $(BUILD)/host/apdu.o $(BUILD)/tests/authority.o \
		$(BUILD)/host/base64.o $(BUILD)/host/trust.o $(BUILD)/host/platform_posix.o $(BUILD)/host/log.o
	$(CC) $(LDFLAGS_ALL) $^ $(CHECK_LIBS) $(LIBS) -o $@

$(BUILD)/tests/it_card: $(BUILD)/tests/it_card.o $(BUILD)/tests/hostproc.o $(BUILD)/host/frame.o \
		$(BUILD)/host/pcsc.o $(BUILD)/host/hex.o $(BUILD)/vcard/sm.o $(BUILD)/tests/authority.o \
		$(BUILD)/host/base64.o $(BUILD)/host/trust.o $(BUILD)/host/platform_posix.o $(BUILD)/host/log.o
	$(CC) $(LDFLAGS_ALL) $^ $(CHECK_LIBS) $(LIBS) -o $@

$(BUILD)/tests/it_script: $(BUILD)/tests/it_script.o $(BUILD)/tests/hostproc.o $(BUILD)/tests/authority.o \
		$(BUILD)/host/frame.o $(BUILD)/host/pcsc.o $(BUILD)/host/hex.o $(BUILD)/host/base64.o \
		$(BUILD)/host/trust.o $(BUILD)/host/platform_posix.o $(BUILD)/host/log.o $(BUILD)/vcard/sm.o
	$(CC) $(LDFLAGS_ALL) $^ $(CHECK_LIBS) $(LIBS) -o $@

$(BUILD)/tests/it_host: $(BUILD)/tests/it_host.o $(BUILD)/tests/hostproc.o $(BUILD)/host/frame.o
	$(CC) $(LDFLAGS_ALL) $^ $(CHECK_LIBS) $(LIBS) -o $@

# What the code says the contract is, for the contract test (make js).
$(BUILD)/tests/contract-dump: $(BUILD)/tests/contract_dump.o $(HOST_OBJS)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

$(BUILD)/tests/pcsc-probe: $(BUILD)/tests/pcsc_probe.o $(BUILD)/host/pcsc.o $(BUILD)/host/hex.o
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

# Test PKI for the virtual card, made at build time; its keys never leave build/.
$(BUILD)/pki/card-cert.der:
	@sh tests/make_pki.sh $(BUILD)/pki

deps:
	@sh tests/deps.sh

unit: $(UNIT_BINS)
	@sh tests/run_units.sh $(UNIT_BINS)

integration: $(HOST_BIN) $(VCARD_BIN) $(SIGN_BIN) $(IT_BINS) $(BUILD)/pki/card-cert.der $(NODE_DEPS)
	@sh tests/run_integration.sh $(BUILD)

# The C integration tests once more, everything built by clang with
# AddressSanitizer and UBSan (host, card, test programs).
integration-asan:
	$(MAKE) BUILD=$(BUILD)/asan-it CC=clang OPT=-O1 NB_ONLY_C=1 NB_SANITIZED=1 \
	  CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" integration

# Browser drivers and the extension linter, pinned in package-lock.json.
$(NODE_DEPS): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund

# The extension's logic in Node, and web-ext lint.
js: $(NODE_DEPS) $(BUILD)/tests/contract-dump
	NB_BUILD=$(BUILD) node --test tests/js/ tests/browser/lint.test.js

# Benchmarks (not part of check): host against baselines, ratios, plot.
$(BUILD)/bench/bench: bench/bench.c $(BUILD)/tests/authority.o $(BUILD)/host/frame.o $(BUILD)/host/pcsc.o \
		$(BUILD)/host/hex.o $(BUILD)/host/base64.o $(BUILD)/host/trust.o $(BUILD)/host/platform_posix.o $(BUILD)/host/log.o $(BUILD)/vcard/sm.o
	mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS_ALL) -Ihost -Ivcard -Itests $(LDFLAGS_ALL) $^ $(LIBS) -o $@

bench: deps
	$(MAKE) all $(BUILD)/bench/bench $(BUILD)/tests/pcsc-probe $(BUILD)/pki/card-cert.der $(NODE_DEPS)
	@sh bench/run.sh $(BUILD)

# Fuzzing (clang libFuzzer + ASan/UBSan). `make fuzz FUZZ_SECONDS=N` runs
# each target N seconds from tests/fuzz/corpus/<target>/; check runs 30 s.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := frame request apdu script card
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -Ihost -Ivcard -Itests
FUZZ_HOST_OBJS := $(HOST_CORE:%=$(FUZZ_DIR)/obj/host/%.o) $(FUZZ_DIR)/obj/tests/fake_backend.o
FUZZ_CARD_OBJS := $(FUZZ_DIR)/obj/vcard/card.o $(FUZZ_DIR)/obj/vcard/sm.o \
                  $(FUZZ_DIR)/obj/host/hex.o $(FUZZ_DIR)/obj/host/apdu.o

$(FUZZ_DIR)/obj/%.o: %.c host/*.h vcard/*.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_card: tests/fuzz/fuzz_card.c $(FUZZ_CARD_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LIBS) -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HOST_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LIBS) -o $@

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@sh tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The clang static analyzer over everything `all` builds; any report fails.
analyze:
	rm -rf $(BUILD)/analyze
	scan-build --status-bugs -o $(BUILD)/analyze/report $(MAKE) -s CC=clang BUILD=$(BUILD)/analyze all

# The Debian package (dpkg-deb; lintian-clean but for documented overrides).
DEB_VERSION ?= 0.1.0-1
deb: $(HOST_BIN)
	sh installer/make-deb.sh $(BUILD) $(DEB_VERSION)

# Windows: nesbridge-host.exe cross-built with mingw-w64, linked statically
# with libcrypto and cJSON built from Debian's sources (installer/windows/
# deps.sh); then the MSIs made with wixl (per machine and per user).
WIN_CC ?= x86_64-w64-mingw32-gcc
WIN_LD := x86_64-w64-mingw32-gcc
WIN_DIR ?= $(BUILD)/win
WIN_DEPS ?= $(WIN_DIR)/deps
WIN_SRCS := $(filter-out platform_posix,$(HOST_CORE)) platform_win pcsc doctor doctor_win main
WIN_OBJS := $(WIN_SRCS:%=$(WIN_DIR)/obj/%.o)
WIN_EXE := $(WIN_DIR)/nesbridge-host.exe
WIN_CFLAGS := -std=c11 -O2 $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
              -D_WIN32_WINNT=0x0601 -D__USE_MINGW_ANSI_STDIO=1 -I$(WIN_DEPS)/include
# ASLR (64-bit), DEP; everything static so the exe needs only system DLLs.
WIN_LDFLAGS := -static -Wl,--dynamicbase,--nxcompat,--high-entropy-va
# What libcrypto and the C runtime need from Windows.
WIN_SYSLIBS := -lws2_32 -lcrypt32 -ladvapi32 -luser32 -lpthread -lssp
WIN_LIBS := $(WIN_DEPS)/lib/libcjson.a $(WIN_DEPS)/lib/libcrypto.a -lwinscard $(WIN_SYSLIBS)
VERSION := $(shell sed -n 's/.*NB_HOST_VERSION "\(.*\)"/\1/p' host/version.h)
WIN_MSIS := $(WIN_DIR)/nesbridge-$(VERSION)-x64.msi $(WIN_DIR)/nesbridge-$(VERSION)-x64-user.msi

$(WIN_DEPS)/lib/libcrypto.a:
	sh installer/windows/deps.sh $(WIN_DEPS)

$(WIN_DIR)/obj/%.o: host/%.c host/*.h $(WIN_DEPS)/lib/libcrypto.a
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@

# The application manifest: asInvoker, and UTF-8 as the process code page.
$(WIN_DIR)/obj/resources.o: installer/windows/nesbridge-host.rc installer/windows/nesbridge-host.manifest
	@mkdir -p $(dir $@)
	x86_64-w64-mingw32-windres -I installer/windows $< -O coff -o $@

$(WIN_EXE): $(WIN_OBJS) $(WIN_DIR)/obj/resources.o
	$(WIN_LD) $(WIN_LDFLAGS) $^ $(WIN_LIBS) -o $@

win: $(WIN_EXE)

# The same exe compiled by clang (mingw-w64 headers; gcc's driver links).
win-clang: $(WIN_DEPS)/lib/libcrypto.a
	$(MAKE) win WIN_DIR=$(BUILD)/win-clang WIN_DEPS=$(abspath $(WIN_DEPS)) WIN_CC="clang --target=x86_64-w64-mingw32"

$(WIN_MSIS) &: $(WIN_EXE) installer/windows/nesbridge.wxs manifests/*.json.in
	sh installer/windows/make-msi.sh $(WIN_DIR) $(VERSION)

msi: $(WIN_MSIS)

# For tests under wine only: a winscard.dll holding the virtual NES card
# (wine's own is a stub). Never shipped.
WIN_SHIM := $(WIN_DIR)/shim/winscard.dll
WIN_SHIM_SRCS := tests/win/winscard_shim.c vcard/card.c vcard/sm.c host/apdu.c host/hex.c

$(WIN_SHIM): $(WIN_SHIM_SRCS) tests/win/winscard.def vcard/*.h host/*.h $(WIN_DEPS)/lib/libcrypto.a
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -Ihost -Ivcard -shared $(WIN_LDFLAGS) $(WIN_SHIM_SRCS) tests/win/winscard.def \
	  $(WIN_DEPS)/lib/libcrypto.a $(WIN_SYSLIBS) -o $@

$(WIN_DIR)/shim/launch.exe: tests/win/launch.c
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) $(WIN_LDFLAGS) $< -o $@

win-shim: $(WIN_SHIM) $(WIN_DIR)/shim/launch.exe

# The RPM package (rpmbuild from Debian's rpm), from the built tree.
rpm: $(HOST_BIN)
	rm -rf $(BUILD)/rpm
	rpmbuild -bb --quiet --define "_topdir $(abspath $(BUILD))/rpm" --define "nb_build $(abspath $(BUILD))" \
	  --define "nb_src $(CURDIR)" --define "__os_install_post %{nil}" --define "debug_package %{nil}" \
	  installer/nesbridge.spec
	@ls $(BUILD)/rpm/RPMS/*/*.rpm

extension:
	node extension/build.js $(BUILD)/extension

extension-dev:
	node extension/build.js $(BUILD)/extension-dev $(DEV_ORIGINS)

install-user: $(HOST_BIN)
	sh installer/install.sh --user --host $(HOST_BIN)

# Both compilers must build warning-free; then unit tests plain, under
# ASan+UBSan and under valgrind; integration tests against pcscd last.
check: deps
	$(MAKE) CC=clang BUILD=$(BUILD)/clang all
	$(MAKE) win-clang
	$(MAKE) analyze
	$(MAKE) all unit
	$(MAKE) asan
	$(MAKE) valgrind
	$(MAKE) fuzz
	$(MAKE) integration-asan
	$(MAKE) js
	$(MAKE) integration

asan:
	$(MAKE) BUILD=$(BUILD)/asan OPT=-O1 \
	  CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" unit

valgrind: $(UNIT_BINS)
	@VALGRIND=1 sh tests/run_units.sh $(UNIT_BINS)

vcard-up: $(VCARD_BIN) $(BUILD)/tests/pcsc-probe $(BUILD)/pki/card-cert.der
	@sh tests/vcard.sh up $(BUILD)

vcard-down:
	@sh tests/vcard.sh down $(BUILD)

demo: deps
	$(MAKE) all $(BUILD)/tests/pcsc-apdu $(BUILD)/tests/pcsc-probe $(BUILD)/pki/card-cert.der $(NODE_DEPS)
	@UI=$(UI) sh tests/demo.sh $(BUILD)

$(BUILD)/tests/pcsc-apdu: $(BUILD)/tests/pcsc_apdu.o $(BUILD)/host/pcsc.o $(BUILD)/host/hex.o
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

clean: vcard-down
	rm -rf $(BUILD)
