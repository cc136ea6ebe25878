#!/bin/sh
# How a call comes back after both machines pause: `hotline demo` with its
# two joins frozen (SIGSTOP) for FREEZE_MS, 2 s into the call, then let go
# (SIGCONT).  Prints the demo's summary lines and each side's audio
# latency, one value a second, from report.json: it should fall back to
# where it was within about five seconds (the audio buffer's 5 s window).
# Usage: bench/stall_recovery.sh BUILD_DIR [FREEZE_MS] [SECONDS]
set -u
build=$1
freeze_ms=${2:-300}
secs=${3:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/apps/hotline" demo --out "$out/demo" --seconds "$secs" \
	>"$out/log" 2>&1 &
demo=$!
joins=
for i in $(seq 200); do
	joins=$(pgrep -P "$demo" -f "join" | tr '\n' ' ')
	[ "$(echo $joins | wc -w)" -ge 2 ] &&
		grep -q "connected" "$out/log" 2>/dev/null && break
	sleep 0.1
done
[ "$(echo $joins | wc -w)" -ge 2 ] || {
	echo "stall_recovery: the call did not start" >&2
	kill "$demo" 2>/dev/null
	exit 1
}
sleep 2
kill -STOP $joins
sleep "$(echo "$freeze_ms" | awk '{print $1 / 1000}')"
kill -CONT $joins
wait "$demo"
rc=$?
grep -E "frames sent|rendered|latency p50|healthy" "$out/log"
python3 - "$out/demo/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for side in ("alice", "bob"):
    print("%s audio latency (ms, one a second): %s" % (side, " ".join(
        "%.0f" % (s.get("audio_latency_ms") or 0) for s in r[side]["timeseries"])))
PY
exit $rc
