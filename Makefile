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
#   make demo            verify the example policy in a throwaway sandbox
#   make regen           rewrite the golden files from the current code
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
PKGS := libnftables libnftnl libmnl libcap-ng

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
	    -Wshadow -Wformat=2 -Wpointer-arith -Wundef -Wvla
DEFS := -D_GNU_SOURCE -DJAILFW_VERSION='"$(VERSION)"' \
	-DJAILFW_TEMPLATE_DIR='"$(DATADIR)/templates"' \
	-DJAILFW_SYSCONF_TEMPLATE_DIR='"$(SYSCONFDIR)/jailfw/templates"'
ALL_CFLAGS := -std=gnu11 $(WARNINGS) $(DEFS) -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDLIBS += $(PKG_LIBS)

LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	       -fno-sanitize-recover=undefined

.PHONY: all check check-asan unit install uninstall clean deps fmt bench regen demo FORCE
all: $(BUILD)/jailfw $(UNIT_BINS)

# The binary has its version and directories compiled in: objects depend on
# a stamp that changes only when those do, so "make install PREFIX=/usr"
# after a plain "make" rebuilds instead of installing the wrong paths.
$(BUILD)/defs.stamp: FORCE | $(BUILD)/obj
	@printf '%s\n' '$(VERSION) $(DATADIR) $(SYSCONFDIR)' | cmp -s - $@ || \
		printf '%s\n' '$(VERSION) $(DATADIR) $(SYSCONFDIR)' >$@

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) $(BUILD)/defs.stamp | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -MMD -c -o $@ $<

$(BUILD)/libjailfw.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/jailfw: $(BUILD)/obj/main.o $(BUILD)/libjailfw.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/t.h $(BUILD)/libjailfw.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libjailfw.a $(LDLIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

check: all
	tests/run --build $(BUILD)

check-asan:
	$(MAKE) BUILD=build-asan CFLAGS='$(ASAN_CFLAGS)' LDFLAGS='-fsanitize=address,undefined' all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run --build build-asan

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

# Rewrite the golden files (diagnostics and rulesets) from the current
# code; review the diff before committing it.
regen: all
	JAILFW_REGEN=1 $(BUILD)/tests/test_golden_diag >/dev/null
	JAILFW_REGEN=1 $(BUILD)/tests/test_golden_render >/dev/null

clean:
	rm -rf build build-asan build-*

fmt:
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/unit/*.h

-include $(wildcard $(BUILD)/obj/*.d)
