#!/bin/sh
# A one-way hotline call on 127.0.0.1 for bench/call.sh: hotlined, two
# identities, a countersigned contract, then two `hotline join` processes
# started together; alice sends the 720p30 test pattern and tone, bob sends
# nothing and receives.  Prints one line:
#   send_cpu recv_cpu g2g_p50_ms g2g_p95_ms setup_ms send_call recv_call
# CPU (seconds) is user+system of each join process for the whole run (key
# exchange, ICE, DTLS included); send_call and recv_call are the part from
# the moment the call is secure to its end (the reports' cpu_s.call, which
# like codec_floor's figure leaves out start-up and setup).  g2g is bob's
# glass-to-glass video latency (capture stamp to display); setup is bob's
# time from starting `join` to the first picture shown.  bob compares one
# picture a second with its reference (PSNR; --psnr-every 30) and reads
# the stamp of every one, as bench/gst_call does.  Exit status 1 when the
# call failed.
# With HOTLINE_ONEWAY_LOGS=DIR, the two joins' messages are kept as
# DIR/a.err and DIR/b.err (bench/outside_decoder.sh reads bob's).
# Usage: bench/hotline_oneway.sh BUILD_DIR SECONDS
set -u
build=$1
secs=$2
hl=$build/apps/hotline
hld=$build/apps/hotlined
tmp=$(mktemp -d)
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

for try in 1 2 3 4 5; do
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
	"$hld" --listen "127.0.0.1:$port" --data "$tmp/data" 2>"$tmp/srv.err" &
	srv=$!
	for i in $(seq 50); do
		grep -q fingerprint "$tmp/srv.err" 2>/dev/null && break 2
		kill -0 "$srv" 2>/dev/null || break
		sleep 0.1
	done
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=
done
[ -n "$srv" ] || { echo "hotline_oneway: hotlined did not start" >&2; exit 1; }
export HOTLINE_SERVER="wss://127.0.0.1:$port"
A="--home $tmp/alice --no-passphrase"
B="--home $tmp/bob --no-passphrase"
for p in alice bob; do
	"$hl" id new --name $p --home "$tmp/$p" --no-passphrase >/dev/null 2>&1
done
key() { "$hl" id show --home "$tmp/$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])'; }
"$hl" contact add bob "$(key bob)" $A >/dev/null
"$hl" contact add alice "$(key alice)" $B >/dev/null
id=$("$hl" schedule bob --at now --duration 60 $A 2>/dev/null) &&
	"$hl" confirm "$id" $B >/dev/null 2>&1 ||
	{ echo "hotline_oneway: scheduling failed" >&2; exit 1; }

/usr/bin/time -f "%U %S" -o "$tmp/a.time" "$hl" join "$id" $A --loopback \
	--seconds "$secs" --report "$tmp/a.json" >/dev/null 2>"$tmp/a.err" &
pa=$!
/usr/bin/time -f "%U %S" -o "$tmp/b.time" "$hl" join "$id" $B --loopback \
	--seconds "$secs" --video none --audio none --report "$tmp/b.json" \
	--psnr-every 30 \
	>/dev/null 2>"$tmp/b.err" &
pb=$!
wait "$pa"; ra=$?
wait "$pb"; rb=$?
if [ -n "${HOTLINE_ONEWAY_LOGS:-}" ]; then
	cp "$tmp/a.err" "$tmp/b.err" "$HOTLINE_ONEWAY_LOGS/"
fi
if [ $ra != 0 ] || [ $rb != 0 ]; then
	echo "hotline_oneway: the call failed ($ra $rb)" >&2
	tail -n 3 "$tmp/a.err" "$tmp/b.err" >&2
	exit 1
fi
python3 - "$tmp" <<'EOF'
import json, sys
t = sys.argv[1]
cpu = [sum(float(x) for x in open(t + "/%s.time" % s).read().split()[-2:])
       for s in "ab"]
a = json.load(open(t + "/a.json"))
b = json.load(open(t + "/b.json"))
v = b["video"]
print("%.2f %.2f %.1f %.1f %.0f %.2f %.2f" % (cpu[0], cpu[1],
      v["latency_ms"]["p50"], v["latency_ms"]["p95"],
      b["setup_ms"]["first_picture"], a["cpu_s"]["call"],
      b["cpu_s"]["call"]))
print("hotline_oneway: setup (ms since join) %s" % b["setup_ms"], file=sys.stderr)
print("hotline_oneway: bob rendered %d frames, PSNR %.2f dB" % (
      v["frames_rendered"], v["psnr_db"]), file=sys.stderr)
EOF
