# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw: hand-written GNU Makefile.
#
#   make                 build build/jailfw
#   make check           build and run the whole test suite (as root)
#   make check-asan      the same suite against an ASan+UBSan build
#   make install         PREFIX=/usr/local DESTDIR= (staging root)
#   make uninstall       the same variables: removes exactly what install put
#   make deps            install the Debian packages the build and tests need
#                        (tests/install-deps, which works before make is there)
#   make demo            verify the example policy in a throwaway sandbox
#   make regen           rewrite the golden files from the current code
#   make bench           the benchmarks under bench/ (minutes; on an idle machine)
#   make fuzz            run each libFuzzer harness (fuzz/) for FUZZ_SECONDS (60)
#   make fuzz-ci         the same, 20 s each: fails on any crash (CI)
#
# BUILD=dir puts every object and binary under dir (default: build).

VERSION := 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share/jailfw
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DOCDIR ?= $(PREFIX)/share/doc/jailfw
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# systemd's own unit directory (pkg-config) when installing into the prefix
# systemd was built for (a distribution package: /lib/systemd/system on
# Debian 12); otherwise PREFIX/lib/systemd/system, which systemd also reads
# for /usr/local and which keeps a staged PREFIX=/opt/x install inside it.
SYSTEMD_PREFIX = $(shell $(PKG_CONFIG) --variable=prefix systemd 2>/dev/null)
SYSTEMDUNITDIR ?= $(or $(if $(filter $(SYSTEMD_PREFIX),$(PREFIX)),$(shell \
	$(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null)),$(PREFIX)/lib/systemd/system)
DESTDIR ?=

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libnftables libnftnl libmnl libcap-ng jansson

# The libraries' flags are asked for when a compile or link first needs
# them, not while make reads this file: in `tests/install-deps && make`,
# pkg-config and the -dev packages arrive only just before make starts,
# and `make deps all` installs them after make has read this file.  Each
# is computed once (the eval keeps the result); a module pkg-config
# cannot find stops the build with its name, never with empty flags.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(call pkg_flags,--cflags))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(call pkg_flags,--libs))$(PKG_LIBS)
PKG_HINT = run tests/install-deps as root (Debian), or install their development packages
pkg_missing = $(strip $(foreach m,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists $m && echo y),,$m)))
pkg_flags = $(if $(shell command -v $(PKG_CONFIG)),,$(error $(PKG_CONFIG) is not installed: \
	$(PKG_HINT)))$(if $(pkg_missing),$(error $(PKG_CONFIG) cannot find $(pkg_missing): \
	$(PKG_HINT)))$(shell $(PKG_CONFIG) $1 $(PKGS))

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
	    -Wshadow -Wformat=2 -Wpointer-arith -Wundef -Wvla
DEFS := -D_GNU_SOURCE -DJAILFW_VERSION='"$(VERSION)"' \
	-DJAILFW_TEMPLATE_DIR='"$(DATADIR)/templates"' \
	-DJAILFW_SYSCONF_TEMPLATE_DIR='"$(SYSCONFDIR)/jailfw/templates"' \
	-DJAILFW_SYSCONF_DIR='"$(SYSCONFDIR)/jailfw"'
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(DEFS) -Isrc $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LDLIBS += $(PKG_LIBS)

LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TESTHOOKS_OBJ := $(BUILD)/obj/testhook-on.o # the test build's hooks: see below

ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	       -fno-sanitize-recover=undefined

.PHONY: all check check-asan unit install uninstall clean deps fmt fmt-check bench regen demo FORCE
all: $(BUILD)/jailfw $(UNIT_BINS)

# The binary has its version and directories compiled in: objects depend on
# a stamp that changes only when those do, so "make install PREFIX=/usr"
# after a plain "make" rebuilds instead of installing the wrong paths.
$(BUILD)/defs.stamp: FORCE | $(BUILD)/obj
	@printf '%s\n' '$(VERSION) $(DATADIR) $(SYSCONFDIR)' | cmp -s - $@ || \
		printf '%s\n' '$(VERSION) $(DATADIR) $(SYSCONFDIR)' >$@

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) $(BUILD)/defs.stamp | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libjailfw.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/jailfw: $(BUILD)/obj/main.o $(BUILD)/libjailfw.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(TESTHOOKS_OBJ) $(BUILD)/libjailfw.a \
		| $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(TESTHOOKS_OBJ) $(BUILD)/libjailfw.a \
		$(LDLIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

# ---- the test build: JAILFW_TEST_* hooks (src/testhook.h) ----
# BUILD/jailfw, the binary make install installs, has no test hook: its
# testhook.o (in libjailfw.a) is empty.  The hooks are compiled with
# -DJAILFW_TESTHOOKS into testhook-on.o, which is linked ahead of the
# library into BUILD/jailfw-testhooks (the e2e scripts that drive faults,
# kills and pauses run it) and into every unit test: the linker then
# takes testhook_* from it and never pulls the library's empty one.
all: $(BUILD)/jailfw-testhooks

$(TESTHOOKS_OBJ): src/testhook.c src/testhook.h $(BUILD)/defs.stamp | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -DJAILFW_TESTHOOKS -MMD -MP -c -o $@ $<

$(BUILD)/jailfw-testhooks: $(BUILD)/obj/main.o $(TESTHOOKS_OBJ) $(BUILD)/libjailfw.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# ---- end of the test build ----

check: all
	tests/run --build $(BUILD)

check-asan:
	$(MAKE) BUILD=build-asan CFLAGS='$(ASAN_CFLAGS)' LDFLAGS='-fsanitize=address,undefined' all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run --build build-asan

# libFuzzer harnesses (fuzz/), built with clang into FUZZ_BUILD (its own
# fuzz-obj/, so that BUILD=build-fuzz does not mix compilers): every
# src/*.c but main.c, instrumented for coverage and sanitized.  Each
# harness runs in turn with the seeds below (copied from the tree at fuzz
# time, under FUZZ_BUILD/corpus/NAME) and its dictionary, if it has one;
# fuzz/run prints exec/s and libFuzzer's coverage (cov:, ft:) per harness
# and copies any crash into fuzz/regressions/NAME/ (make fuzz).  fuzz-ci
# runs each for FUZZ_CI_SECONDS and fails on any crash, leak or timeout.
# The same harnesses, linked with fuzz/replay_main.c by the project's own
# compiler, are BUILD/fuzz/replay_NAME: tests/e2e/edge-inputs.sh replays
# fuzz/regressions/ with them in the ordinary and the sanitizer suite.
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 20
FUZZ_NAMES := policy nflog
# pointer-overflow alone is recoverable, so that fuzz/ubsan.supp can hold a
# known, reported finding; fuzz/run halts on any other.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fsanitize-recover=pointer-overflow -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 $(WARNINGS) $(DEFS) -Isrc -Ifuzz $(PKG_CFLAGS) -O1 -g $(FUZZ_SAN)
# gcc's warnings are the project's gate (make); clang's differ, and must
# not stop a fuzz build over a warning gcc does not give (clang also flags
# vprintf wrappers and libnftnl's own macros).
FUZZ_SRC_CFLAGS = $(filter-out -Werror,$(FUZZ_CFLAGS)) -Wno-format-nonliteral -Wno-pointer-arith
FUZZ_LIB_OBJS := $(LIB_SRCS:src/%.c=$(FUZZ_BUILD)/fuzz-obj/%.o)
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)
FUZZ_POLICY_SEEDS = $(wildcard policies/*.conf templates/*.conf tests/parse/ok/*.conf \
	tests/parse/fail/*.conf tests/render/*.conf)

.PHONY: fuzz fuzz-ci fuzz-corpus
all: $(FUZZ_REPLAY_BINS)

$(FUZZ_BUILD)/fuzz-obj/%.o: src/%.c $(wildcard src/*.h) | $(FUZZ_BUILD)/fuzz-obj
	$(FUZZ_CC) $(FUZZ_SRC_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(LDLIBS)

$(FUZZ_REPLAY_BINS): $(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay_main.c fuzz/fuzz.h \
		$(BUILD)/libjailfw.a | $(BUILD)/fuzz
	$(CC) $(ALL_CFLAGS) -Ifuzz $(LDFLAGS) -o $@ $< fuzz/replay_main.c $(BUILD)/libjailfw.a $(LDLIBS)

$(FUZZ_BUILD)/fuzz-obj $(BUILD)/fuzz:
	mkdir -p $@

# Seeds named after their path: tests/render/writeup.conf and
# policies/writeup.conf are different files.
fuzz-corpus:
	mkdir -p $(FUZZ_BUILD)/corpus/policy $(FUZZ_BUILD)/corpus/nflog
	@echo "fuzz-corpus: $(words $(FUZZ_POLICY_SEEDS)) policy seeds into $(FUZZ_BUILD)/corpus/policy"
	@for f in $(FUZZ_POLICY_SEEDS); do \
		cp "$$f" "$(FUZZ_BUILD)/corpus/policy/seed-$$(echo "$$f" | tr / -)" || exit 1; \
	done
	fuzz/nflog-seeds $(FUZZ_BUILD)/corpus/nflog

fuzz: $(FUZZ_BINS) fuzz-corpus
	fuzz/run --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS) --save $(FUZZ_NAMES)

fuzz-ci: $(FUZZ_BINS) fuzz-corpus
	fuzz/run --build $(FUZZ_BUILD) --seconds $(FUZZ_CI_SECONDS) $(FUZZ_NAMES)

# What install puts where, so that uninstall removes exactly that.  The
# policy itself (SYSCONFDIR/jailfw/jailfw.conf) is the administrator's:
# never installed, never removed; the example policies go to DOCDIR.
INST_TEMPLATES = $(notdir $(wildcard templates/*.conf))
INST_EXAMPLES = $(notdir $(wildcard policies/*.conf))
INST_UNIT_EXAMPLES = $(notdir $(wildcard systemd/examples/*.conf))
# jailfw.service is re-applied after these firewalls restart (systemd/reapply.conf).
INST_DROPIN_UNITS = nftables.service firewalld.service
# The units name the installed binary and policy: substituted here, not at
# build time, because only install knows SBINDIR and SYSCONFDIR for sure.
SUBST_PATHS = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

# The binary has DATADIR and SYSCONFDIR compiled in (its template path), and
# objects are not rebuilt when only PREFIX changes: refuse to install one
# built for other directories, which would never find its templates.
install: $(BUILD)/jailfw
	@if tr '\0' '\n' <$(BUILD)/jailfw | grep -q '^JAILFW_TEST_'; then \
		echo "install: $(BUILD)/jailfw is a test build (it has the JAILFW_TEST_* hooks," \
			"built with -DJAILFW_TESTHOOKS); rebuild it without them:" \
			"rm -rf $(BUILD) && make BUILD=$(BUILD) PREFIX=$(PREFIX)" >&2; \
		exit 1; \
	fi
	@for d in $(DATADIR)/templates $(SYSCONFDIR)/jailfw/templates; do \
		tr '\0' '\n' <$(BUILD)/jailfw | grep -qxF "$$d" && continue; \
		echo "install: $(BUILD)/jailfw was built for other directories (it does not" \
			"look for templates in $$d); rebuild it with the same PREFIX, DATADIR" \
			"and SYSCONFDIR: rm -rf $(BUILD) && make BUILD=$(BUILD) PREFIX=$(PREFIX)" >&2; \
		exit 1; \
	done
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/templates \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/examples/systemd \
		$(INST_DROPIN_UNITS:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%.d) $(BUILD)/systemd
	install -m 0755 $(BUILD)/jailfw $(DESTDIR)$(SBINDIR)/jailfw
	install -m 0644 templates/*.conf $(DESTDIR)$(DATADIR)/templates/
	install -m 0644 docs/jailfw.8 $(DESTDIR)$(MANDIR)/man8/jailfw.8
	install -m 0644 docs/jailfw.conf.5 $(DESTDIR)$(MANDIR)/man5/jailfw.conf.5
	$(SUBST_PATHS) systemd/jailfw.service.in >$(BUILD)/systemd/jailfw.service
	install -m 0644 $(BUILD)/systemd/jailfw.service $(DESTDIR)$(SYSTEMDUNITDIR)/jailfw.service
	$(SUBST_PATHS) systemd/jailfw@.service.in >$(BUILD)/systemd/jailfw@.service
	install -m 0644 $(BUILD)/systemd/jailfw@.service $(DESTDIR)$(SYSTEMDUNITDIR)/jailfw@.service
	for u in $(INST_DROPIN_UNITS); do \
		install -m 0644 systemd/reapply.conf $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.d/jailfw.conf || exit 1; \
	done
	install -m 0644 completion/jailfw.bash $(DESTDIR)$(BASHCOMPDIR)/jailfw
	install -m 0644 policies/*.conf $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 systemd/examples/*.conf $(DESTDIR)$(DOCDIR)/examples/systemd/

# Files first, then only the directories that are jailfw's own, and only
# when empty: SBINDIR, MANDIR and the unit directory are shared.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/jailfw $(DESTDIR)$(MANDIR)/man8/jailfw.8 \
		$(DESTDIR)$(MANDIR)/man5/jailfw.conf.5 \
		$(INST_TEMPLATES:%=$(DESTDIR)$(DATADIR)/templates/%) \
		$(DESTDIR)$(SYSTEMDUNITDIR)/jailfw.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/jailfw@.service \
		$(INST_DROPIN_UNITS:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%.d/jailfw.conf) \
		$(DESTDIR)$(BASHCOMPDIR)/jailfw \
		$(INST_EXAMPLES:%=$(DESTDIR)$(DOCDIR)/examples/%) \
		$(INST_UNIT_EXAMPLES:%=$(DESTDIR)$(DOCDIR)/examples/systemd/%)
	for d in $(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(DATADIR) \
		$(INST_DROPIN_UNITS:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%.d) \
		$(DESTDIR)$(DOCDIR)/examples/systemd $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR); do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d" || exit 1; \
	done

deps:
	tests/install-deps

# The README's first command: the write-up's policy proven in a throwaway
# sandbox (verify), then uid and netns isolation side by side, measured.
# Neither touches this machine's own network.
demo: all
	JAILFW_TEMPLATE_PATH=templates $(BUILD)/jailfw verify policies/writeup.conf
	JAILFW_TEMPLATE_PATH=templates $(BUILD)/jailfw compare --probe policies/writeup.conf

# Each benchmark builds its own throwaway namespaces; numbers only mean
# something on an otherwise idle machine.
bench: all
	bench/uid-scale.sh $(BUILD)
	bench/netns-provision.sh $(BUILD)
	bench/packet-path.sh $(BUILD)

# Rewrite the golden files (diagnostics and rulesets) from the current
# code; review the diff before committing it.
regen: all
	JAILFW_REGEN=1 $(BUILD)/tests/test_golden_diag >/dev/null
	JAILFW_REGEN=1 $(BUILD)/tests/test_golden_render >/dev/null

clean:
	rm -rf build build-asan build-*

# The tree is formatted by clang-format 14 (Debian 12's); other versions
# break lines differently, so the check names the version it holds to.
CLANG_FORMAT ?= clang-format-14
FMT_FILES = src/*.c src/*.h tests/unit/*.c tests/unit/*.h fuzz/*.c fuzz/*.h

fmt:
	$(CLANG_FORMAT) -i $(FMT_FILES)

fmt-check:
	@command -v $(CLANG_FORMAT) >/dev/null || { \
		echo "fmt-check: $(CLANG_FORMAT) not found (apt-get install clang-format-14)" >&2; \
		exit 1; }
	$(CLANG_FORMAT) --dry-run --Werror $(FMT_FILES)

-include $(wildcard $(BUILD)/obj/*.d)
