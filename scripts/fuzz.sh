#!/bin/sh
# Run every libFuzzer target in BUILD/fuzz for SECONDS each, starting from
# the committed seed corpus fuzz/corpus/NAME.  New inputs go to a scratch
# corpus under BUILD/fuzz-work (the committed corpus is not modified; copy
# interesting finds by hand).  Any crash, leak, timeout or sanitizer report
# fails the run and leaves the reproducer in BUILD/fuzz-work/NAME-artifacts.
# Usage: scripts/fuzz.sh BUILD SECONDS
set -eu
build=$1
secs=$2
top=$(cd "$(dirname "$0")/.." && pwd)
work="$build/fuzz-work"
mkdir -p "$work"
rc=0
found=0
for exe in "$build"/fuzz/fuzz_*; do
	[ -x "$exe" ] || continue
	case "$exe" in *.p) continue ;; esac
	found=$((found + 1))
	name=$(basename "$exe" | sed 's/^fuzz_//')
	seeds="$top/fuzz/corpus/$name"
	if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
		echo "fuzz: $name has no seed corpus in fuzz/corpus/$name" >&2
		rc=1
		continue
	fi
	mkdir -p "$work/$name" "$work/$name-artifacts"
	printf 'fuzz: %-20s %ss ... ' "$name" "$secs"
	if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$work/$name-artifacts/" \
		"$work/$name" "$seeds" >"$work/$name.log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
			"$work/$name.log" | grep -o '[0-9]*$' || echo '?')
		echo "ok ($execs runs)"
	else
		echo "FAILED (log: $work/$name.log)"
		tail -n 30 "$work/$name.log" >&2
		rc=1
	fi
done
if [ "$found" = 0 ]; then
	echo "fuzz: no targets found in $build/fuzz" >&2
	exit 1
fi
exit $rc
