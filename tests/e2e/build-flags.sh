#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Makefile asks pkg-config for the libraries' flags when a build needs
# them, not while make reads the Makefile: `make deps all` on a machine
# without pkg-config installs it in the middle of the run, and the link
# must then get the libraries.  A pkg-config that cannot find a module
# stops the build with the module's name and the command that installs
# it, never with empty flags; and a header removed since the last build
# does not stop the next.  No topology: make only, in a copy of the
# suite's build directory (so that only the link runs).
#
#   $T/b            a copy of BUILD, without the binary
#   $T/pkg-config   absent when make starts; a target made first (as
#                   `deps` would) links it to the real one

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

B=${JAILFW_BUILD:-$LIB_ROOT/build}
command -v pkg-config >/dev/null || lib_bail "no pkg-config (run tests/install-deps)"
[ -f "$B/libjailfw.a" ] || lib_bail "no $B/libjailfw.a (build first)"
T=$(mktemp -d /tmp/jailfw-build-flags.XXXXXX) || lib_bail mktemp
lib_defer rm -rf "$T"
trap lib_cleanup EXIT

# mk ARGS...: make in the repository, none of the flags or variables of
# a make that may be running this test.
mk()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -C "$LIB_ROOT" --no-print-directory "$@"
}

cp -a "$B" "$T/b" && rm -f "$T/b/jailfw" || lib_bail "copy $B"
cat >"$T/deps.mk" <<EOF
.PHONY: sim-deps
sim-deps:
	ln -s "$(command -v pkg-config)" "$T/pkg-config"
EOF

out=$(mk -f Makefile -f "$T/deps.mk" BUILD="$T/b" PKG_CONFIG="$T/pkg-config" \
	sim-deps "$T/b/jailfw" 2>&1)
check_eq "pkg-config installed by an earlier target: the link succeeds" "$?" 0 ||
	printf '%s\n' "$out" | tail -n 5 | sed 's/^/    | /'
check "... and the binary runs" "$T/b/jailfw" --version
check_match "... linked with the libraries pkg-config names" "$out" \
	"$(pkg-config --libs libnftables | awk '{ print $1 }')"

rm -f "$T/b/jailfw" "$T/pkg-config"
out=$(mk BUILD="$T/b" PKGS="libnftables libjailfw-no-such libmnl" "$T/b/jailfw" 2>&1)
check_eq "a module pkg-config cannot find: make fails" "$?" 2
check_match "... naming it and what installs it" "$out" \
	'pkg-config cannot find libjailfw-no-such: run tests/install-deps'
check "... and links nothing" test ! -e "$T/b/jailfw"

out=$(mk BUILD="$T/b" PKG_CONFIG="$T/pkg-config" "$T/b/jailfw" 2>&1)
check_eq "no pkg-config at all: make fails" "$?" 2
check_match "... saying so" "$out" "$T/pkg-config is not installed: run tests/install-deps"

check "make -n uninstall needs no pkg-config (nothing asked at parse time)" \
	mk BUILD="$T/b" PKG_CONFIG="$T/pkg-config" DESTDIR="$T/stage" -n uninstall

# A header removed since the last build (a rebase) must not stop the next
# one with "No rule to make target": each dependency file names its
# headers as targets of their own too (-MP).
check_eq "every dependency file lists its headers as targets (-MP)" \
	"$(cd "$B/obj" && for d in *.d; do grep -q '^src/[^ ]*\.h:$' "$d" || echo "$d"; done)" ""

lib_done
