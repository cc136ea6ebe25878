#!/bin/sh
# The receiver's CPU outside the VP8 decoder, in alternating one-way calls
# of two builds: a steadier figure than whole-process CPU, whose run-to-run
# noise on these shared machines (5-10 %) is as large as the gaps we look
# for, and comes mostly from the decoder.  Each build must have
# bench/decode_clock.patch applied (`git apply bench/decode_clock.patch`,
# then build): it clocks the thread's CPU inside vpx_codec_decode and
# prints it when the decoder closes, if HL_DECODE_CLOCK is set.
# Prints one line per call, then the mean per build:
#   BUILD recv_call_s decode_s outside_s
# Usage: bench/outside_decoder.sh BUILD_A BUILD_B [RUNS [SECONDS]]
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD_A BUILD_B [RUNS [SECONDS]]" >&2; exit 2; }
a=$1 b=$2 runs=${3:-4} secs=${4:-30}
here=$(dirname "$0")
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export HL_DECODE_CLOCK=1 HOTLINE_ONEWAY_LOGS="$logs"
for r in $(seq "$runs"); do
	for build in "$a" "$b"; do
		rm -f "$logs/b.err"
		out=$("$here/hotline_oneway.sh" "$build" "$secs" 2>/dev/null) || {
			echo "outside_decoder: the call with $build failed" >&2
			exit 1
		}
		dec=$(sed -n 's/^decode_clock: [0-9]* pictures \([0-9.]*\) s$/\1/p' "$logs/b.err")
		[ -n "$dec" ] || {
			echo "outside_decoder: $build prints no decode_clock line: apply bench/decode_clock.patch to it and rebuild" >&2
			exit 1
		}
		# the 7th field of hotline_oneway.sh: bob's CPU from the secure moment
		echo "$out" | awk -v b="$build" -v d="$dec" \
			'{ printf "%s %.3f %.3f %.3f\n", b, $7, d, $7 - d }' |
			tee -a "$logs/table"
	done
done
awk '{ n[$1]++; s[$1] += $4 }
	END { for (k in n) printf "mean outside the decoder: %s %.3f s (%d calls)\n", k, s[k] / n[k], n[k] }' "$logs/table"
