#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The man pages (docs/*.[1-8]) render without a single warning, hold no
# control character troff would choke on (a literal form feed where \f was
# meant), and `man docs/jailfw.8` works as the README says.  No topology:
# nothing here touches the kernel.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

cd "$LIB_ROOT" || lib_bail "cd $LIB_ROOT"

pages=(docs/*.[1-8])
[ -e "${pages[0]}" ] || lib_bail "no man page under docs/"

# lint PAGE: groff's complaints with every warning on (man(1) --warnings
# and lintian ask for the same), nothing when the page is clean.
lint()
{
	groff -ww -z -man "$1" 2>&1
}

for p in "${pages[@]}"; do
	check_eq "$p: groff -ww says nothing" "$(lint "$p")" ""
	check_eq "$p: no control character but tab" \
		"$(LC_ALL=C grep -n '[^[:print:]	]' "$p" | cat -v)" ""
done

# The control: a form feed in a page is what the checks above catch.
bad=$(mktemp /tmp/jailfw-man.XXXXXX) || lib_bail mktemp
lib_defer rm -f "$bad"
trap lib_cleanup EXIT
printf '.TH X 8\n.SH NAME\nx \014Bbold\014R\n' >"$bad"
check_match "control: groff -ww flags a literal form feed" "$(lint "$bad")" 'warning'

check_match "man docs/jailfw.8 shows the page" \
	"$(MANPAGER=cat MANWIDTH=80 man docs/jailfw.8 2>&1 | head -n 1)" '^JAILFW\(8\)'

lib_done
