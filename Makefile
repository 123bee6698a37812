# SPDX-License-Identifier: Apache-2.0
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
# The host itself links neither libcrypto (dlopen'd by the first signed
# script, host/crypto_load.c) nor libm: tests/js/linkage.test.js.
HOST_LIBS := $(shell pkg-config --libs libpcsclite libcjson 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# Where the code lives (README, "What is here"): common/ (shared by every
# program), host/ (nesbridge-host), sign/ (nesbridge-sign), vcard/ (the
# virtual card); tests/unit, tests/integration, tests/support. Objects go to
# $(BUILD)/obj/<folder>/; the compiler writes each object's header
# dependencies beside it (-MMD -MP).
DEPFLAGS = -MMD -MP
INCLUDES_host := -Icommon -Ihost
INCLUDES_common := -Icommon
INCLUDES_sign := -Icommon $(shell pkg-config --cflags p11-kit-1 2>/dev/null)
INCLUDES_vcard := -Icommon -Ivcard
INCLUDES_ifd := -Icommon -Ivcard -Iifd
INCLUDES_tests := -Icommon -Ihost -Ivcard -Iifd -Isign -Itests/support -Itests/unit -Itests/integration
INCLUDES_bench := $(INCLUDES_tests)

# Each program's objects, listed once.
COMMON_MODS := hex apdu frame base64 log wipe signature crypto_direct anchor platform_posix
# pcsc.c (the only user of winscard.h), doctor and main.c stay out of the
# host library so that unit tests link it against a fake backend.
HOST_MODS := errors jsonguard policy origin caller config session protocol dispatch readers card_io \
             cmd_readers cmd_card cmd_script relay trust crypto_load nonce script pinpad watchdog transaction
HOST_MAIN_MODS := pcsc doctor doctor_unix doctor_sandbox doctor_dbus main
VCARD_CORE_MODS := card sm state files profile control
VCARD_MAIN_MODS := main vpcd
# The pinpad reader's driver (ifd/): API over protocol over transport,
# with the card's logic inside (pcscd loads it from reader.conf).
IFD_MODS := ifdhandler pin_entry slot

obj = $(patsubst %,$(BUILD)/obj/$(1)/%.o,$(2))
COMMON_LIB := $(BUILD)/lib/libnbcommon.a
HOST_LIB := $(BUILD)/lib/libnbhost.a
VCARD_LIB := $(BUILD)/lib/libnbcard.a
IFD_LIB := $(BUILD)/lib/libnbifd.a
HOST_BIN := $(BUILD)/nesbridge-host
VCARD_BIN := $(BUILD)/nesbridge-vcard
SIGN_BIN := $(BUILD)/nesbridge-sign
IFD_DRIVER := $(BUILD)/libifdnesbridge.so
PCSC_OBJ := $(call obj,host,pcsc)
SUPPORT_OBJS := $(call obj,tests/support,authority)

UNIT_TESTS := frame jsonguard hex apdu policy origin caller config errors protocol dispatch relay log platform \
              script trust oom watchdog nonce base64 wipe signature crypto_load ecdsa_der
CARD_TESTS := sm card control pin_entry
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/check_%) $(CARD_TESTS:%=$(BUILD)/tests/check_%)
IT_BINS := $(BUILD)/tests/it_host $(BUILD)/tests/it_card $(BUILD)/tests/it_script $(BUILD)/tests/it_pinpad \
           $(BUILD)/tests/pcsc-probe $(BUILD)/tests/pcsc-apdu

.SECONDARY:

.PHONY: all check unit integration asan valgrind clean deps deps-demo demo vcard-up vcard-down \
        js extension extension-dev install-user bench fuzz analyze integration-asan deb rpm win msi win-shim win-clang

DEV_ORIGINS ?= http://localhost:8443
NODE_DEPS := tests/browser/node_modules/.package-lock.json

all: $(HOST_BIN) $(VCARD_BIN) $(SIGN_BIN) $(IFD_DRIVER)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) $(INCLUDES_$(firstword $(subst /, ,$*))) -c $< -o $@

$(COMMON_LIB): $(call obj,common,$(COMMON_MODS))
$(HOST_LIB): $(call obj,host,$(HOST_MODS))
$(VCARD_LIB): $(call obj,vcard,$(VCARD_CORE_MODS))
$(IFD_LIB): $(call obj,ifd,pin_entry)
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# The Linux browser table: one file for install.sh and doctor.
$(BUILD)/gen/browsers_linux.h: installer/browsers-linux.tsv installer/browsers-header.awk
	@mkdir -p $(dir $@)
	awk -f installer/browsers-header.awk installer/browsers-linux.tsv > $@.tmp && mv $@.tmp $@

$(call obj,host,doctor_unix): $(BUILD)/gen/browsers_linux.h
$(call obj,host,doctor_unix): CFLAGS_ALL += -I$(BUILD)/gen

$(HOST_BIN): $(call obj,host,$(HOST_MAIN_MODS)) $(HOST_LIB) $(COMMON_LIB)
	$(CC) $(LDFLAGS_ALL) $^ $(HOST_LIBS) -o $@

$(VCARD_BIN): $(call obj,vcard,$(VCARD_MAIN_MODS)) $(VCARD_LIB) $(COMMON_LIB)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

# The driver runs inside pcscd: position-independent, only IFDH* exported,
# and never built with the sanitizers (pcscd is not), whatever CFLAGS say.
IFD_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(OPT) -g $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
              -fPIC $(shell pkg-config --cflags libpcsclite libcrypto 2>/dev/null)
IFD_OBJS := $(patsubst %,$(BUILD)/obj-pic/ifd/%.o,$(IFD_MODS)) \
            $(patsubst %,$(BUILD)/obj-pic/vcard/%.o,$(VCARD_CORE_MODS)) \
            $(patsubst %,$(BUILD)/obj-pic/common/%.o,hex apdu wipe platform_posix anchor)

$(BUILD)/obj-pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(IFD_CFLAGS) $(DEPFLAGS) $(INCLUDES_ifd) -c $< -o $@

$(IFD_DRIVER): $(IFD_OBJS) ifd/exports.map
	$(CC) -shared -Wl,-z,defs -Wl,-z,relro,-z,now -Wl,--as-needed -Wl,--version-script=ifd/exports.map -pthread \
	  $(IFD_OBJS) $(shell pkg-config --libs libcrypto 2>/dev/null) -o $@

# The authority's signing tool: common/ only (the signature scheme is
# common/signature.c, shared with the host's verifier); a key in a PKCS#11
# token through p11-kit (sign/token.c), which only this program links.
SIGN_MODS := sign_tool token pin_source
$(SIGN_BIN): $(call obj,sign,$(SIGN_MODS)) $(COMMON_LIB)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) $(shell pkg-config --libs p11-kit-1 2>/dev/null) -o $@

# Unit tests: the host's logic on a fake backend; the card's logic alone.
$(BUILD)/tests/check_%: $(call obj,tests/unit,check_% fake_backend) $(SUPPORT_OBJS) $(IFD_LIB) $(VCARD_LIB) \
		$(HOST_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(CHECK_LIBS) $(LIBS) -o $@

# The out-of-memory test fails allocations of its own choosing.
$(BUILD)/tests/check_oom: LDFLAGS_ALL += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
# The libcrypto loader test makes dlopen fail.
$(BUILD)/tests/check_crypto_load: LDFLAGS_ALL += -Wl,--wrap=dlopen,--wrap=dlerror

# Integration tests drive the real host, pcscd and the virtual card.
$(BUILD)/tests/it_%: $(call obj,tests/integration,it_% hostproc) $(SUPPORT_OBJS) $(PCSC_OBJ) $(VCARD_LIB) \
		$(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(CHECK_LIBS) $(LIBS) -o $@

$(BUILD)/tests/pcsc-%: $(call obj,tests/integration,pcsc_%) $(PCSC_OBJ) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

# What the code says the contract is, for the contract test (make js).
$(BUILD)/tests/contract-dump: $(call obj,tests/support,contract_dump) $(HOST_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

# Test PKI for the virtual card, made at build time; its keys never leave build/.
$(BUILD)/pki/card-cert.der:
	@sh tests/make_pki.sh $(BUILD)/pki

deps:
	@sh tests/deps.sh

deps-demo:
	@sh tests/deps.sh demo

unit: $(UNIT_BINS)
	@sh tests/run_units.sh $(UNIT_BINS)

integration: $(HOST_BIN) $(VCARD_BIN) $(SIGN_BIN) $(IFD_DRIVER) $(IT_BINS) $(BUILD)/pki/card-cert.der $(NODE_DEPS)
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
js: $(NODE_DEPS) $(BUILD)/tests/contract-dump $(HOST_BIN)
	NB_BUILD=$(BUILD) node --test tests/js/ tests/browser/lint.test.js

# Benchmarks (not part of check): host against baselines, ratios, plot.
$(BUILD)/bench/bench: $(call obj,bench,bench) $(SUPPORT_OBJS) $(PCSC_OBJ) $(VCARD_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

# The cold-start floor: a host that reads one frame and writes one reply.
$(BUILD)/bench/floor-host: $(call obj,bench,floor_host)
	$(CC) $(LDFLAGS_ALL) $^ -o $@

bench: deps
	$(MAKE) all $(BUILD)/bench/bench $(BUILD)/bench/floor-host $(BUILD)/tests/pcsc-probe $(BUILD)/pki/card-cert.der \
	  $(NODE_DEPS)
	@sh bench/run.sh $(BUILD)

# Fuzzing (clang libFuzzer + ASan/UBSan). `make fuzz FUZZ_SECONDS=N` runs
# each target N seconds from tests/fuzz/corpus/<target>/; check runs 20 s each
# (six targets: CI stays well inside its 20 minutes; run longer by hand).
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := frame request apdu script card pin_entry
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(INCLUDES_tests)
FUZZ_COMMON_OBJS := $(COMMON_MODS:%=$(FUZZ_DIR)/obj/common/%.o)
FUZZ_HOST_OBJS := $(HOST_MODS:%=$(FUZZ_DIR)/obj/host/%.o) $(FUZZ_DIR)/obj/tests/unit/fake_backend.o \
                  $(FUZZ_COMMON_OBJS)
FUZZ_CARD_OBJS := $(FUZZ_DIR)/obj/vcard/card.o $(FUZZ_DIR)/obj/vcard/files.o $(FUZZ_DIR)/obj/vcard/sm.o \
                  $(FUZZ_COMMON_OBJS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_card: tests/fuzz/fuzz_card.c $(FUZZ_CARD_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LIBS) -o $@

$(FUZZ_DIR)/fuzz_pin_entry: tests/fuzz/fuzz_pin_entry.c $(FUZZ_DIR)/obj/ifd/pin_entry.o $(FUZZ_COMMON_OBJS)
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
WIN_OBJS := $(patsubst %,$(WIN_DIR)/obj/common/%.o,$(filter-out platform_posix,$(COMMON_MODS)) platform_win) \
            $(patsubst %,$(WIN_DIR)/obj/host/%.o,$(HOST_MODS) pcsc doctor doctor_win main)
WIN_EXE := $(WIN_DIR)/nesbridge-host.exe
WIN_CFLAGS := -std=c11 -O2 $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
              -D_WIN32_WINNT=0x0601 -D__USE_MINGW_ANSI_STDIO=1 -I$(WIN_DEPS)/include
# ASLR (64-bit), DEP; everything static so the exe needs only system DLLs.
WIN_LDFLAGS := -static -Wl,--dynamicbase,--nxcompat,--high-entropy-va
# What libcrypto and the C runtime need from Windows.
WIN_SYSLIBS := -lws2_32 -lcrypt32 -ladvapi32 -luser32 -lbcrypt -lpthread -lssp
WIN_LIBS := $(WIN_DEPS)/lib/libcjson.a $(WIN_DEPS)/lib/libcrypto.a -lwinscard $(WIN_SYSLIBS)
VERSION := $(shell sed -n 's/.*NB_HOST_VERSION "\(.*\)"/\1/p' host/version.h)
WIN_MSIS := $(WIN_DIR)/nesbridge-$(VERSION)-x64.msi $(WIN_DIR)/nesbridge-$(VERSION)-x64-user.msi

$(WIN_DEPS)/lib/libcrypto.a:
	sh installer/windows/deps.sh $(WIN_DEPS)

$(WIN_DIR)/obj/%.o: %.c $(WIN_DEPS)/lib/libcrypto.a
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) $(DEPFLAGS) $(INCLUDES_$(firstword $(subst /, ,$*))) -c $< -o $@

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

$(WIN_MSIS) &: $(WIN_EXE) installer/windows/nesbridge.wxs installer/windows/make-msi.sh manifests/*.json.in LICENSE
	sh installer/windows/deps.sh $(WIN_DEPS)
	sh installer/windows/make-msi.sh $(WIN_DIR) $(VERSION) $(WIN_DEPS)

msi: $(WIN_MSIS)

# For tests under wine only: a winscard.dll holding the virtual NES card
# (wine's own is a stub). Never shipped.
WIN_SHIM := $(WIN_DIR)/shim/winscard.dll
WIN_SHIM_SRCS := tests/win/winscard_shim.c vcard/card.c vcard/files.c vcard/profile.c vcard/sm.c common/apdu.c common/hex.c common/wipe.c \
                 common/platform_win.c common/anchor.c

$(WIN_SHIM): $(WIN_SHIM_SRCS) tests/win/winscard.def vcard/*.h common/*.h $(WIN_DEPS)/lib/libcrypto.a
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -Icommon -Ivcard -shared $(WIN_LDFLAGS) $(WIN_SHIM_SRCS) tests/win/winscard.def \
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

vcard-up: $(VCARD_BIN) $(IFD_DRIVER) $(BUILD)/tests/pcsc-probe $(BUILD)/pki/card-cert.der
	@sh tests/vcard.sh up $(BUILD)

vcard-down:
	@sh tests/vcard.sh down $(BUILD)

demo: deps-demo
	$(MAKE) all $(BUILD)/tests/pcsc-apdu $(BUILD)/tests/pcsc-probe $(BUILD)/pki/card-cert.der $(NODE_DEPS)
	@UI=$(UI) sh tests/demo.sh $(BUILD)

clean: vcard-down
	rm -rf $(BUILD)

# Each object depends on the headers it included (-MMD -MP), the Windows
# and fuzzing objects too, so a changed header rebuilds what used it.
-include $(shell find $(BUILD)/obj $(BUILD)/obj-pic $(WIN_DIR)/obj $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
