#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Makefile asks pkg-config for the libraries' flags when a build needs
# them, not while make reads the Makefile: `make deps all` on a machine
# without pkg-config installs it in the middle of the run, and the link
# must then get the libraries.  A pkg-config that cannot find a module
# stops the build with the module's name and the command that installs
# it, never with empty flags; and a header removed since the last build
# does not stop the next.  No topology: make -n only (the commands are
# printed, not run), so that any build flavour (ASan) is tested alike.
#
#   $T/b            an empty build directory
#   $T/d            another, where one object is compiled
#   $T/pkg-config   absent when make starts; a target made first (as
#                   `deps` would; "+" runs it under -n too) links it to
#                   the real one

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

command -v pkg-config >/dev/null || lib_bail "no pkg-config (run tests/install-deps)"
T=$(mktemp -d /tmp/jailfw-build-flags.XXXXXX) || lib_bail mktemp
lib_defer rm -rf "$T"
trap lib_cleanup EXIT

# mk ARGS...: make -n in the repository, none of the flags or variables of
# a make that may be running this test.
mk()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -n -C "$LIB_ROOT" --no-print-directory BUILD="$T/b" "$@"
}

cat >"$T/deps.mk" <<EOF
.PHONY: sim-deps
sim-deps:
	+ln -s "$(command -v pkg-config)" "$T/pkg-config"
EOF

# link_line OUTPUT: the command that links BUILD/jailfw.
link_line()
{
	grep -E -- "-o $T/b/jailfw( |\$)" <<<"$1"
}

out=$(mk -f Makefile -f "$T/deps.mk" PKG_CONFIG="$T/pkg-config" sim-deps "$T/b/jailfw" 2>&1)
check_eq "pkg-config installed by an earlier target: make goes on" "$?" 0 ||
	printf '%s\n' "$out" | tail -n 5 | sed 's/^/    | /'
check "... pkg-config was put there first" test -L "$T/pkg-config"
line=$(link_line "$out")
missing=
# The Makefile's own list of modules.
pkgs=$(sed -n 's/^PKGS := //p' "$LIB_ROOT/Makefile")
[ -n "$pkgs" ] || lib_bail "no PKGS := line in the Makefile"
# shellcheck disable=SC2086 # a list of modules
for l in $(pkg-config --libs $pkgs); do
	case " $line " in
	*" $l "*) ;;
	*) missing="$missing $l" ;;
	esac
done
check_eq "... the link gets every library pkg-config names" "${line:+linked}$missing" linked

rm -f "$T/pkg-config"
out=$(mk PKGS="libnftables libjailfw-no-such libmnl" "$T/b/jailfw" 2>&1)
check_eq "a module pkg-config cannot find: make fails" "$?" 2
check_match "... naming it and what installs it" "$out" \
	'pkg-config cannot find libjailfw-no-such: run tests/install-deps'
check_eq "... before any link" "$(link_line "$out")" ""

out=$(mk PKG_CONFIG="$T/pkg-config" "$T/b/jailfw" 2>&1)
check_eq "no pkg-config at all: make fails" "$?" 2
check_match "... saying so" "$out" "$T/pkg-config is not installed: run tests/install-deps"

check "make uninstall needs no pkg-config (nothing asked at parse time)" \
	mk PKG_CONFIG="$T/pkg-config" DESTDIR="$T/stage" uninstall

# A header removed since the last build (a rebase) must not stop the next
# one with "No rule to make target": the dependency file of an object
# names its headers as targets of their own too (-MP).  One object,
# compiled for real.
out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	make -C "$LIB_ROOT" --no-print-directory BUILD="$T/d" "$T/d/obj/util.o" 2>&1)
check_eq "compile one object" "$?" 0 || printf '%s\n' "$out" | sed 's/^/    | /'
check_match "its dependency file lists its headers as targets (-MP)" \
	"$(cat "$T/d/obj/util.d" 2>&1)" '^src/util\.h:$'

lib_done
