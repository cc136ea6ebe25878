#!/bin/sh
# A call through two NATs (issue 4: server-reflexive candidates, relay
# fallback).  Five network namespaces that this script makes and removes:
#
#   alice 192.168.1.2 -- natA (masquerade) 10.99.1.2 --+
#                                                      pub 10.99.1.1 / 10.99.2.1
#   bob   192.168.2.2 -- natB (masquerade) 10.99.2.2 --+   hotlined, coturn
#
# Neither side can reach the other's private address (pub answers those
# with ICMP "network unreachable", as the internet may); coturn answers
# STUN too, so each side learns its NAT's outside address.  Every call
# must connect and render >= 97 % of its frames both ways, either
# directly between the two NATs' outside addresses (server-reflexive
# candidates, hole punching) or through the relay.  Which one is a race
# in the NATs themselves: a check that reaches natB before bob's own
# check has left creates a conntrack entry for that address pair, and
# bob's masquerade must then pick another outside port, which makes
# natB behave like a symmetric NAT for this call (Linux home routers do
# the same); the relay is ICE's answer to that.
#
# coturn runs with --denied-peer-ip for the private ranges, as a TURN
# server should (it must not relay into anybody's LAN).  Without it
# coturn tried to relay checks to the peers' private addresses ("udp
# send: Network is unreachable" in its log) and the relayed pairs did not
# work either: 3 calls in 4 failed with "ICE found no working path"
# (measured 2026-11-27; with the denial, 10 calls in 10 connected, 4
# direct and 6 through the relay).  First picture 0.55-0.67 s after join
# starts, direct or relayed (2.2 s before the STUN retransmission timer
# went down to 100 ms, src/net/ice.c).
#
# Needs root (namespaces, nftables).  Usage: tests/nat.sh hotline hotlined [WxH]
set -u
hl=$1
hld=$2
size=${3:-1280x720}
tmp=$(mktemp -d)
chmod 755 "$tmp"
tag=$$
P=hlp$tag NA=hlna$tag NB=hlnb$tag A=hla$tag B=hlb$tag
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for n in $A $B $NA $NB $P; do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "not ok $1"; shift; [ $# -gt 0 ] && tail -n 5 "$@"; exit 1; }

[ "$(id -u)" = 0 ] || fail "nat.sh needs root for its network namespaces"
command -v nft >/dev/null || fail "nft (Debian package nftables) is missing; run 'make deps'"

# ---- the networks ----------------------------------------------------------
set -e
for n in $P $NA $NB $A $B; do
	ip netns add "$n"
	ip -n "$n" link set lo up
done
link() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}
link $P pa 10.99.1.1/24 $NA out 10.99.1.2/24
link $P pb 10.99.2.1/24 $NB out 10.99.2.2/24
link $NA in 192.168.1.1/24 $A eth0 192.168.1.2/24
link $NB in 192.168.2.1/24 $B eth0 192.168.2.2/24
ip -n $A route add default via 192.168.1.1
ip -n $B route add default via 192.168.2.1
ip -n $NA route add default via 10.99.1.1
ip -n $NB route add default via 10.99.2.1
for n in $P $NA $NB; do
	ip netns exec "$n" sysctl -q -w net.ipv4.ip_forward=1
done
for n in $NA $NB; do
	ip netns exec "$n" nft -f - <<EOF
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "out" masquerade
	}
}
EOF
done
set +e

# ---- the internet: coturn and hotlined in pub ------------------------------
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$secret" >"$tmp/turn-secret"
chmod 600 "$tmp/turn-secret"
ip netns exec $P turnserver -n --listening-ip=10.99.1.1 --relay-ip=10.99.1.1 \
	--listening-port=3478 --min-port=49152 --max-port=49352 \
	--use-auth-secret --static-auth-secret="$secret" --realm=hotline \
	--denied-peer-ip=192.168.0.0-192.168.255.255 \
	--no-tls --no-dtls --no-cli --db="$tmp/turndb" \
	--pidfile="$tmp/turn.pid" --log-file=stdout >"$tmp/turn.log" 2>&1 &
pids="$pids $!"
ip netns exec $P "$hld" --listen 10.99.1.1:8443 --data "$tmp/data" \
	--turn-secret-file "$tmp/turn-secret" \
	--turn-uri turn:10.99.1.1:3478 2>"$tmp/server.err" &
pids="$pids $!"
for i in $(seq 50); do
	grep -q fingerprint "$tmp/server.err" 2>/dev/null &&
		ip netns exec $P ss -Hlun 'sport = :3478' | grep -q 10.99.1.1 &&
		break
	sleep 0.1
done
grep -q fingerprint "$tmp/server.err" || fail "hotlined did not start" "$tmp/server.err"
export HOTLINE_SERVER="wss://10.99.1.1:8443"

# ---- two people, a contract ------------------------------------------------
inA() { ip netns exec $A "$@"; }
inB() { ip netns exec $B "$@"; }
HA="--home $tmp/alice --no-passphrase"
HB="--home $tmp/bob --no-passphrase"
inA "$hl" id new --name alice $HA >/dev/null 2>&1
inB "$hl" id new --name bob $HB >/dev/null 2>&1
key() { "$hl" id show --home "$tmp/$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])'; }
inA "$hl" contact add bob "$(key bob)" $HA >/dev/null
inB "$hl" contact add alice "$(key alice)" $HB >/dev/null
id=$(inA "$hl" schedule bob --at now --duration 30 $HA 2>"$tmp/sched.err") &&
	inB "$hl" confirm "$id" $HB >/dev/null 2>"$tmp/confirm.err" ||
	fail "scheduling through the NATs" "$tmp/sched.err" "$tmp/confirm.err"
echo "ok contract through both NATs"

# ---- the call ----------------------------------------------------------------
inA "$hl" join "$id" $HA --seconds 6 --video-size "$size" \
	--report "$tmp/a.json" >/dev/null 2>"$tmp/a.err" &
pa=$!
pids="$pids $pa"
inB "$hl" join "$id" $HB --seconds 6 --video-size "$size" \
	--report "$tmp/b.json" >/dev/null 2>"$tmp/b.err" &
pb=$!
pids="$pids $pb"
wait $pa; ra=$?
wait $pb; rb=$?
[ $ra = 0 ] && [ $rb = 0 ] || fail "call through two NATs (exit $ra $rb)" "$tmp/a.err" "$tmp/b.err"

python3 - "$tmp/a.json" "$tmp/b.json" <<'EOF' || exit 1
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
for me, peer, nat in ((a, b, "10.99.2.2:"), (b, a, "10.99.1.2:")):
    sent = peer["video"]["frames_sent"]
    got = me["video"]["frames_rendered"]
    print("  %s: path %s, %s <-> %s, %d/%d frames, PSNR %.2f dB, "
          "setup %.0f ms, %d datagrams read directly" % (
              me["name"], me["path"], me["local"], me["remote"], got, sent,
              me["video"]["psnr_db"], me["setup_ms"]["first_picture"],
              me["datagrams_read_directly"]))
    if me["path"] == "direct" and not me["remote"].startswith(nat):
        bad.append("%s's direct peer is %s, not the other NAT's outside "
                   "address" % (me["name"], me["remote"]))
    # Past the NATs the pair has no relay: media is read past libnice.
    if (me["path"] == "direct") != (me["datagrams_read_directly"] > 0):
        bad.append("%s's path is %s and %d datagrams were read directly" % (
            me["name"], me["path"], me["datagrams_read_directly"]))
    if me["path"] not in ("direct", "relay"):
        bad.append("%s's path is %s" % (me["name"], me["path"]))
    if got < 0.97 * (sent - 2):
        bad.append("%s rendered %d of %d frames" % (me["name"], got, sent))
    if me["e2ee"]["auth_failures"]:
        bad.append("%s had authentication failures" % me["name"])
for m in bad:
    print("  " + m)
sys.exit(1 if bad else 0)
EOF
echo "ok call through two NATs ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$tmp/a.json"))"
