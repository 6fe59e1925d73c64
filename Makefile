# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw: hand-written GNU Makefile.
#
#   make                 build build/jailfw
#   make check           build and run the whole test suite (as root)
#   make check-asan      the same suite against an ASan+UBSan build
#   make install         PREFIX=/usr/local DESTDIR= (staging root)
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

.PHONY: all check check-asan unit install uninstall clean deps fmt bench regen demo
all: $(BUILD)/jailfw $(UNIT_BINS)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/obj
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

install: $(BUILD)/jailfw
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/templates \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BUILD)/jailfw $(DESTDIR)$(SBINDIR)/jailfw
	install -m 0644 templates/*.conf $(DESTDIR)$(DATADIR)/templates/
	install -m 0644 docs/jailfw.8 $(DESTDIR)$(MANDIR)/man8/jailfw.8
	install -m 0644 docs/jailfw.conf.5 $(DESTDIR)$(MANDIR)/man5/jailfw.conf.5

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/jailfw $(DESTDIR)$(MANDIR)/man8/jailfw.8 \
		$(DESTDIR)$(MANDIR)/man5/jailfw.conf.5
	rm -rf $(DESTDIR)$(DATADIR)

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
