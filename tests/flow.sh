#!/bin/sh
# The whole flow of issue 3 on loopback: hotlined plus two homes (alice,
# bob): id new, contact add, schedule --at now, invites, confirm, and
# verify on both sides at once (same SAS); then the failure cases a user
# meets: wrong passphrase, damaged identity file, unpinned proposer, a
# server killed with SIGKILL and restarted.
# Usage: tests/flow.sh path/to/hotline path/to/hotlined
set -u
hl=$1
hld=$2
tmp=$(mktemp -d)
fails=0
srv_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
no() { echo "not ok $1"; fails=$((fails + 1)); }

start_server() { # data dir [hotlined options]: on a new port (below the
	# kernel's ephemeral ports); exports HOTLINE_SERVER
	dir=$1
	shift
	for try in 1 2 3 4 5; do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
		"$hld" --listen "127.0.0.1:$port" --data "$dir" "$@" \
			>"$tmp/server.out" 2>"$tmp/server.err" &
		srv_pid=$!
		for i in $(seq 50); do
			if grep -q "fingerprint" "$tmp/server.err" 2>/dev/null; then
				export HOTLINE_SERVER="wss://127.0.0.1:$port"
				return 0
			fi
			kill -0 "$srv_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
		srv_pid=
	done
	echo "cannot start hotlined:"
	cat "$tmp/server.err"
	exit 1
}

start_server "$tmp/data"
A="--home $tmp/alice"
B="--home $tmp/bob"
echo "alice passphrase 1" >"$tmp/pa"
echo "bob passphrase 22" >"$tmp/pb"
PA="--passphrase-file $tmp/pa"
PB="--passphrase-file $tmp/pb"

# Identities and contacts.
$hl id new --name alice $A $PA >"$tmp/a.id" && ok "alice id new" || no "alice id new"
$hl id new --name bob $B $PB >"$tmp/b.id" && ok "bob id new" || no "bob id new"
[ "$(stat -c %a "$tmp/alice/identity.json")" = 600 ] && ok "identity file mode 0600" || no "identity file mode"
grep -q "$(cat "$tmp/pa")" "$tmp/alice/identity.json" && no "passphrase in file" || ok "passphrase not in file"
akey=$($hl id show $A --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
bkey=$($hl id show $B --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
$hl id show $A --json | python3 -c '
import json,sys; d=json.load(sys.stdin)
assert d["name"] == "alice" and len(d["safety_number"]) == 60 and d["safety_number"].isdigit()
' && ok "id show json" || no "id show json"
$hl contact add bob "$bkey" $A >/dev/null && ok "alice pins bob" || no "alice pins bob"
$hl contact add alice "$akey" $B >/dev/null && ok "bob pins alice" || no "bob pins alice"
$hl contact add bob "$akey" $A 2>"$tmp/err" && no "other key for bob accepted" || {
	grep -q "REFUSED" "$tmp/err" && ok "other key for a known name refused" || no "refusal message"; }
$hl contact list $A --json | python3 -c '
import json,sys; d=json.load(sys.stdin); assert [c["name"] for c in d] == ["bob"]
' && ok "contact list" || no "contact list"

# A wrong passphrase changes nothing.
cp "$tmp/alice/identity.json" "$tmp/id.before"
HOTLINE_PASSPHRASE=wrong-passphrase $hl schedule bob --at now $A 2>"$tmp/err" && no "wrong passphrase accepted" || {
	grep -q "wrong passphrase" "$tmp/err" && ok "wrong passphrase: clear error" || no "wrong passphrase message"; }
cmp -s "$tmp/alice/identity.json" "$tmp/id.before" && ok "wrong passphrase changed nothing" || no "identity file changed"

# Schedule, invites, confirm.
id=$($hl schedule bob --at now --duration 30 --topic "budget" --topic "next steps" $A $PA) && ok "schedule" || no "schedule"
echo "$id" | grep -qE '^[0-9a-f]{32}$' && ok "schedule prints the call id alone" || no "call id format: $id"
$hl invites $B $PB --json >"$tmp/inv" && python3 - "$tmp/inv" "$id" <<'PY' && ok "bob sees the invitation" || no "invites"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["call_id"] == sys.argv[2] and d[0]["peer"] == "alice"
assert d[0]["topics"] == ["budget", "next steps"] and d[0]["state"] == "proposed"
PY
$hl confirm "$id" $B $PB >/dev/null && ok "confirm" || no "confirm"
$hl calls $A $PA --json | python3 -c '
import json,sys; d=json.load(sys.stdin); assert d[0]["state"] == "confirmed", d
' && ok "alice sees it confirmed" || no "calls state"

# Verify on both sides at once: the same SAS.
$hl verify "$id" $A $PA --json >"$tmp/va" 2>"$tmp/va.err" &
va=$!
$hl verify "$id" $B $PB --json >"$tmp/vb" 2>"$tmp/vb.err"
rb=$?
wait $va
ra=$?
if [ $ra = 0 ] && [ $rb = 0 ]; then
	sa=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/va")
	sb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/vb")
	[ -n "$sa" ] && [ "$sa" = "$sb" ] && ok "verify: both exit 0 with the same SAS ($sa)" || no "SAS differ: $sa / $sb"
else
	no "verify exit codes $ra $rb"
	cat "$tmp/va.err" "$tmp/vb.err"
fi

# A damaged identity file gives a clear error.
cp -r "$tmp/alice" "$tmp/alice2"
printf '{"version": 1, "name": "alice", garbage' >"$tmp/alice2/identity.json"
$hl schedule bob --at now --home "$tmp/alice2" $PA 2>"$tmp/err" && no "damaged identity accepted" || {
	grep -q "damaged" "$tmp/err" && ok "damaged identity: clear error" || no "damaged message: $(cat "$tmp/err")"; }

# A proposal from an unpinned key is refused until pinned.
$hl id new --name carol --home "$tmp/carol" --no-passphrase >/dev/null 2>&1
$hl contact add bob "$bkey" --home "$tmp/carol" >/dev/null
cid=$($hl schedule bob --at now --home "$tmp/carol" --no-passphrase)
$hl invites $B $PB | grep -q "refused until you pin" && ok "unpinned proposer shown as refused" || no "unpinned invite"
$hl confirm "$cid" $B $PB 2>"$tmp/err" && no "confirmed an unpinned proposer" || {
	grep -q "not pinned" "$tmp/err" && ok "confirm refuses an unpinned proposer" || no "unpinned message"; }

# The server killed with SIGKILL and restarted: everything is still there.
kill -9 "$srv_pid"
wait "$srv_pid" 2>/dev/null
srv_pid=
"$hld" --listen "127.0.0.1:$port" --data "$tmp/data" >"$tmp/server.out" 2>"$tmp/server.err" &
srv_pid=$!
for i in $(seq 50); do grep -q fingerprint "$tmp/server.err" && break; sleep 0.1; done
$hl calls $A $PA --json | python3 -c '
import json,sys,os; d=json.load(sys.stdin); s={c["call_id"]: c["state"] for c in d}
assert s[sys.argv[1]] == "confirmed", s
' "$id" && ok "after SIGKILL and restart the contract and its state are there" || no "state lost after SIGKILL"

# A client connected while the server dies reconnects on its own: alice
# waits in verify, the server is killed with SIGKILL and restarted, then
# bob runs verify; both succeed with the same SAS.
$hl verify "$id" $A $PA --json --timeout 60 >"$tmp/va" 2>"$tmp/va.err" &
va=$!
sleep 2
kill -9 "$srv_pid"
wait "$srv_pid" 2>/dev/null
"$hld" --listen "127.0.0.1:$port" --data "$tmp/data" >"$tmp/server.out" 2>"$tmp/server.err" &
srv_pid=$!
for i in $(seq 50); do grep -q fingerprint "$tmp/server.err" && break; sleep 0.1; done
$hl verify "$id" $B $PB --json >"$tmp/vb" 2>"$tmp/vb.err"
rb=$?
wait $va
ra=$?
if [ $ra = 0 ] && [ $rb = 0 ] &&
	[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/va")" = \
	  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/vb")" ]; then
	ok "a waiting client reconnects on its own after SIGKILL; verify completes"
else
	no "verify across a server restart ($ra $rb)"
	cat "$tmp/va.err" "$tmp/vb.err"
fi

# both_sas: alice's verify (already started, PID $va) and bob's now; true
# when both succeed with the same SAS.
both_sas() {
	$hl verify "$id" $B $PB --json >"$tmp/vb" 2>"$tmp/vb.err"
	rb=$?
	wait $va
	ra=$?
	[ $ra = 0 ] && [ $rb = 0 ] &&
		[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/va")" = \
		  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sas"])' "$tmp/vb")" ]
}

# alice gives up waiting and starts over before bob comes: what her first
# run left queued on the server is not what bob answers, and neither side
# sees a false alarm.
$hl verify "$id" $A $PA --timeout 3 >/dev/null 2>"$tmp/va0.err"
$hl verify "$id" $A $PA --json --timeout 30 >"$tmp/va" 2>"$tmp/va.err" &
va=$!
sleep 1
if grep -q "did not answer" "$tmp/va0.err" && both_sas; then
	ok "a key exchange started over completes with the same SAS"
else
	no "a key exchange started over ($ra $rb)"
	cat "$tmp/va0.err" "$tmp/va.err" "$tmp/vb.err"
fi

# bob comes late, to a server that queues at most 2 relays for him:
# alice's repeats (one every 2 s) replace each other instead of filling
# the queue and ending her wait early.
kill "$srv_pid"
wait "$srv_pid" 2>/dev/null
start_server "$tmp/data" --limit relay_queue=2
$hl verify "$id" $A $PA --json --timeout 30 >"$tmp/va" 2>"$tmp/va.err" &
va=$!
sleep 9
if both_sas; then
	ok "a peer 9 s late: the exchange completes (relay queue of 2)"
else
	no "a peer 9 s late ($ra $rb)"; cat "$tmp/va.err" "$tmp/vb.err"
fi

[ "$fails" = 0 ] && echo "all flow checks passed"
exit $((fails > 0))
