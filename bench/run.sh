#!/bin/sh
# Benchmarks of hotline (see bench/README.md for what each figure means).
# Usage: bench/run.sh BUILD_DIR     (make bench)
# Environment: BENCH_RUNS (default 5), BENCH_CALLGRIND=1 to also count
# instructions with valgrind (slow: a few minutes).
set -eu
build=${1:-build}
runs=${BENCH_RUNS:-5}

echo "== engine overhead beyond the codecs (CPU time, median of $runs)"
"$build/bench/bench_sim" --runs "$runs" 2>/dev/null

if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
	echo "== the same in instructions (callgrind, 3 s call)"
	for what in sim floor; do
		valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$build/bench/bench_sim" --only "$what" --seconds 3 2>&1 |
			sed -n "s/.*Collected : \([0-9]*\).*/$what instructions: \1/p"
	done
fi

echo "== SFrame per frame"
"$build/bench/bench_sframe"

echo "== codecs, test pattern and tone"
"$build/bench/media_probe" 300

echo "== one sleep and wake-up"
"$build/bench/wake_cost"

# The one-way call against the codec floor and GStreamer (bench/call.sh):
# about 3 minutes for a 30 s call, and it installs GStreamer from Debian's
# packages when missing, so only on request.
if [ "${BENCH_CALL:-0}" = 1 ]; then
	"$(dirname "$0")/call.sh" "$build"
else
	echo "== one-way call vs codec floor and GStreamer: BENCH_CALL=1 (bench/call.sh)"
fi
