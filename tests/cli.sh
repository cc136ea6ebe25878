#!/bin/sh
# Command-line contract of `hotline`: help, usage errors (one clear
# sentence, exit status 2), and a short `sim --json` run whose report has
# the keys of DESIGN.md.  Usage: tests/cli.sh path/to/hotline
set -u
hl=$1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, expected status, command...
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "not ok $name: exit $got, want $want"
		sed 's/^/    /' "$tmp/err" | head -5
		fails=$((fails + 1))
	else
		echo "ok $name"
	fi
}

# An error is one sentence on stderr naming the problem, plus a hint.
error_names() { # name, text that must appear
	if grep -q -- "$2" "$tmp/err" && [ "$(wc -l <"$tmp/err")" -le 2 ] &&
		[ ! -s "$tmp/out" ]; then
		echo "ok $1 message"
	else
		echo "not ok $1 message:"
		sed 's/^/    /' "$tmp/err"
		fails=$((fails + 1))
	fi
}

check help 0 "$hl" --help
grep -q "sim" "$tmp/out" || { echo "not ok help lists sim"; fails=$((fails + 1)); }
check sim-help 0 "$hl" sim --help
grep -q -- "--loss" "$tmp/out" || { echo "not ok sim help lists --loss"; fails=$((fails + 1)); }
check no-command 2 "$hl"
check unknown-command 2 "$hl" frobnicate
error_names unknown-command "frobnicate"

check loss-too-big 2 "$hl" sim --loss 2
error_names loss-too-big "loss"
check negative-delay 2 "$hl" sim --delay-ms -5
error_names negative-delay "delay-ms"
check unknown-flag 2 "$hl" sim --bogus
error_names unknown-flag "bogus"
check missing-value 2 "$hl" sim --seed
error_names missing-value "seed"
check not-a-number 2 "$hl" sim --seconds ten
error_names not-a-number "seconds"
check bad-size 2 "$hl" sim --video-size 99x100
error_names bad-size "video-size"
check impossible-burst 2 "$hl" sim --loss 0.9 --burst 5
error_names impossible-burst "burst"
check zero-seconds 2 "$hl" sim --seconds 0

check sim-json 0 "$hl" sim --seconds 1 --video-size 160x120 --kbps 200 \
	--loss 0.05 --seed 3 --json
if python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for side in ("alice", "bob"):
    s = d[side]
    for k in ("seconds", "sas", "e2ee", "video", "audio", "network"):
        assert k in s, (side, k)
    for k in ("suite", "auth_failures", "replays"):
        assert k in s["e2ee"], k
    for k in ("frames_sent", "frames_rendered", "freezes", "max_freeze_ms",
              "psnr_db", "latency_ms", "kbps", "width", "height"):
        assert k in s["video"], k
    for k in ("frames_sent", "frames_played", "concealed_ms", "latency_ms"):
        assert k in s["audio"], k
    for k in ("rtt_ms", "loss", "nacks", "retransmissions"):
        assert k in s["network"], k
    assert s["e2ee"]["suite"] == "AES_128_GCM_SHA256_128"
    assert s["video"]["width"] == 160 and s["video"]["frames_rendered"] > 0
assert d["sim"]["seed"] == 3
PY
then echo "ok sim-json schema"; else echo "not ok sim-json schema"; fails=$((fails + 1)); fi

check sim-text 0 "$hl" sim --seconds 1 --video-size 160x120 --kbps 200
grep -q "video frames rendered" "$tmp/out" || { echo "not ok sim summary"; fails=$((fails + 1)); }

# Sinks and file sources: record a short call, then call with the
# recording as the source (Y4M and WAV round trip through the engine).
check sim-record 0 "$hl" sim --seconds 1 --video-size 160x120 --kbps 200 \
	--record "$tmp/rec"
for f in alice-received.y4m alice-received.wav bob-received.y4m \
	bob-received.wav; do
	[ -s "$tmp/rec/$f" ] || { echo "not ok recorded $f"; fails=$((fails + 1)); }
done
check sim-files 0 "$hl" sim --seconds 2 --video "$tmp/rec/bob-received.y4m" \
	--audio "$tmp/rec/bob-received.wav" --kbps 200 --json
if python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = d["bob"]["video"]
assert v["width"] == 160 and v["frames_rendered"] == d["alice"]["video"]["frames_sent"] > 0
assert v["corrupt_frames"] == 0
assert d["bob"]["audio"]["frames_played"] > 90
PY
then echo "ok sim-files figures"; else echo "not ok sim-files figures"; fails=$((fails + 1)); fi
check missing-file 1 "$hl" sim --video "$tmp/nope.y4m"
error_names missing-file "nope.y4m"
check wrong-file 1 "$hl" sim --audio "$tmp/rec/bob-received.y4m"
error_names wrong-file "as audio"

check demo-help 0 "$hl" demo --help
check demo-bad-size 2 "$hl" demo --video-size 7x7
check join-help 0 "$hl" join --help
grep -q -- "--relay-only" "$tmp/out" && echo "ok join-help lists --relay-only" || { echo "not ok join-help lists --relay-only"; fails=$((fails + 1)); }
check join-no-id 2 "$hl" join
check join-bad-status 2 "$hl" join 0123 --status loud
check join-bad-impair 2 "$hl" join 0123 --impair loss=2
grep -q "impair" "$tmp/err" && echo "ok join-bad-impair message" || { echo "not ok join-bad-impair message"; fails=$((fails + 1)); }
check join-bad-impair-key 2 "$hl" join 0123 --impair colour=red

[ "$fails" = 0 ] && echo "all cli checks passed"
exit $((fails > 0))
