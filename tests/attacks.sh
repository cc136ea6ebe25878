#!/bin/sh
# Issue 3's attacks, each failing closed with a clear message, and the
# same step succeeding once the attack is removed.  A malicious server
# (tests/evil_hotlined, the real server with hooks) plays each attack on
# the same store, port and certificate as the honest hotlined.
# Usage: tests/attacks.sh hotline hotlined evil_hotlined
set -u
hl=$1
hld=$2
evil=$3
tmp=$(mktemp -d)
fails=0
srv_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { echo "ok $1"; }
no() { echo "not ok $1"; fails=$((fails + 1)); }

. "$(dirname "$0")/lib.sh"
honest() { stop; start "$hld"; }
attack() { stop; start "$evil" --attack "$1"; }

start "$hld"
export HOTLINE_SERVER="wss://127.0.0.1:$port"
A="--home $tmp/alice --no-passphrase"
B="--home $tmp/bob --no-passphrase"
C="--home $tmp/carol --no-passphrase"
for p in alice bob carol; do $hl id new --name $p --home "$tmp/$p" --no-passphrase >/dev/null 2>&1; done
key() { $hl id show --home "$tmp/$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])'; }
$hl contact add bob "$(key bob)" $A >/dev/null
$hl contact add alice "$(key alice)" $B >/dev/null
$hl contact add alice "$(key alice)" $C >/dev/null
$hl contact add bob "$(key bob)" $C >/dev/null
id=$($hl schedule bob --at now $A 2>/dev/null)
$hl confirm "$id" $B >/dev/null 2>&1 || { echo "setup failed"; exit 1; }

# verify on both sides at once; sets ra rb and the outputs
both_verify() {
	$hl verify "$id" $A --timeout "$1" --json >"$tmp/va" 2>"$tmp/va.err" &
	p=$!
	$hl verify "$id" $B --timeout "$1" --json >"$tmp/vb" 2>"$tmp/vb.err"
	rb=$?
	wait $p
	ra=$?
}
verify_works() { # what
	both_verify 20
	if [ $ra = 0 ] && [ $rb = 0 ] && cmp -s "$tmp/va" "$tmp/va" &&
		[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/va")" = \
		  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/vb")" ]; then
		ok "$1: verify succeeds once the attack is removed"
	else
		no "$1: verify after the attack ($ra $rb)"; cat "$tmp/va.err" "$tmp/vb.err"
	fi
}
verify_fails() { # what
	both_verify 8
	if [ $ra != 0 ] && [ $rb != 0 ] &&
		grep -qE "FAILED|REFUSED" "$tmp/va.err" "$tmp/vb.err"; then
		ok "$1: verify fails closed on both sides"
		sed -n 's/^/    /p' "$tmp/va.err" "$tmp/vb.err" | grep -E "FAILED|REFUSED" | head -2
	else
		no "$1: verify did not fail closed ($ra $rb)"; cat "$tmp/va.err" "$tmp/vb.err"
	fi
}

verify_works "baseline"

# 1. The server (or a proxy) alters a contract field.
attack alter-contract
$hl calls $A 2>"$tmp/err" >"$tmp/out"
grep -q "WARNING" "$tmp/err" && ! grep -q "$id" "$tmp/out" &&
	ok "altered contract: ignored with a warning" || no "altered contract shown"
sed -n 's/^/    /p' "$tmp/err" | head -1
$hl verify "$id" $A --timeout 5 2>"$tmp/err" && no "verify of an altered contract" ||
	ok "altered contract: verify refuses ($(head -c 80 "$tmp/err"))"
honest
$hl calls $A 2>"$tmp/err" | grep -q "$id" && ! grep -q WARNING "$tmp/err" &&
	ok "altered contract: fine again once the attack is removed" || no "after alter-contract"

# 2. The server substitutes the proposer's public key.
attack swap-key
id2=$($hl schedule bob --at now --topic "key swap" $A 2>/dev/null)
$hl invites $B | grep -q "refused until you pin" && ok "substituted key: invitation refused" || no "substituted key shown as valid"
$hl confirm "$id2" $B 2>"$tmp/err" && no "confirmed a substituted key" || {
	grep -q "REFUSED" "$tmp/err" && ok "substituted key: confirm refuses" || no "substituted key message"; }
honest
$hl confirm "$id2" $B >/dev/null 2>&1 && ok "substituted key: confirm works once the attack is removed" || no "confirm after swap-key"

# 3. Replaying an old key-exchange message.
attack replay
both_verify 20 # recorded
verify_fails "replayed key-exchange message"
honest
verify_works "replay"

# 4. Reflecting a party's own message back to it.
attack reflect
verify_fails "reflected key-exchange message"
honest
verify_works "reflect"

# 5. Stripping or changing the suite (downgrade).
attack suite
verify_fails "changed suite (downgrade)"
honest
verify_works "suite"

# 6. A run that starts over: a forged M1 handed to the responder just
# before the real one (what a stale M1 from an abandoned run looks like).
# The responder answers the newest, and the exchange completes.
for a in inject-m1; do
	attack $a
	both_verify 20
	if [ $ra = 0 ] && [ $rb = 0 ] && grep -q "^evil: " "$tmp/server.err" &&
		[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/va")" = \
		  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/vb")" ]; then
		ok "$a: the exchange completes, same SAS ($(grep -c "^evil: " "$tmp/server.err") x \"$(grep -m1 "^evil: " "$tmp/server.err")\")"
	else
		no "$a ($ra $rb)"; cat "$tmp/va.err" "$tmp/vb.err" "$tmp/server.err"
	fi
	honest
done

# 7. A third identity trying to join.
$hl verify "$id" $C --timeout 5 2>"$tmp/err" && no "carol joined" ||
	ok "third identity refused ($(head -c 70 "$tmp/err"))"
verify_works "third identity"

[ "$fails" = 0 ] && echo "all attack checks passed"
exit $((fails > 0))
