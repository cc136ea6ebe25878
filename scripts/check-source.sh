#!/bin/sh
# Mechanical source checks (STYLE.md principle 16):
#  - no strcpy/strcat/sprintf/vsprintf/gets/atoi/atol/rand/srand anywhere;
#  - no clock or OS-randomness calls outside src/net (the only I/O layer
#    of the library) and src/server/sys.c (hotlined is an application
#    component that does its own I/O; its clock and RNG reads live in
#    that one file so that its protocol core stays sans-IO and testable);
#  - every C file formatted as .clang-format says.
set -eu
cd "$(dirname "$0")/.."
rc=0
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find src include apps tests fuzz bench -name '*.[ch]')

banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|rand|srand)[[:space:]]*\('
if grep -nE "$banned" $files | grep -v 'check-source: allow'; then
	echo "check-source: banned function above (use snprintf, strtol, hl_rng)" >&2
	rc=1
fi

clock='\b(clock_gettime|gettimeofday|getrandom|randombytes_buf|randombytes_random|arc4random)[[:space:]]*\(|\b(time|clock)\('
lib=$(echo "$files" | tr ' ' '\n' | grep -E '^(src|include)/' | grep -v '^src/net/' |
	grep -v '^src/server/sys\.c$' || true)
if [ -n "$lib" ] && grep -nE "$clock" $lib | grep -v 'check-source: allow'; then
	echo "check-source: clock/OS randomness outside src/net above (pass 'now' and an hl_rng in)" >&2
	rc=1
fi

if command -v clang-format >/dev/null 2>&1; then
	if ! clang-format --dry-run -Werror $files 2>/tmp/hl-format.$$; then
		head -n 40 /tmp/hl-format.$$ >&2
		echo "check-source: formatting differs from .clang-format; run 'make format'" >&2
		rc=1
	fi
	rm -f /tmp/hl-format.$$
fi
[ $rc = 0 ] && echo "check-source: ok"
exit $rc
