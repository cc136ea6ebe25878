# Shared by the shell tests: source it after setting $tmp.
#   start PROGRAM [ARGS]   start hotlined (or evil_hotlined) on 127.0.0.1 with
#                          $tmp/data, on $port (a random free one when empty
#                          or taken), and wait until it prints its
#                          fingerprint; sets srv_pid and port and exports
#                          HOTLINE_SERVER, or exits 1 with its log
#   stop                   end it (by its PID) and wait
port=
srv_pid=
start() {
	for try in 1 2 3 4 5; do
		# below the kernel's ephemeral ports (32768 up), which
		# outgoing connections may hold
		[ -n "$port" ] || port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
		"$@" --listen "127.0.0.1:$port" --data "$tmp/data" 2>"$tmp/server.err" &
		srv_pid=$!
		for i in $(seq 50); do
			if grep -q "fingerprint" "$tmp/server.err" 2>/dev/null; then
				export HOTLINE_SERVER="wss://127.0.0.1:$port"
				return 0
			fi
			kill -0 "$srv_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null
		srv_pid=; port=
	done
	echo "cannot start the server"; cat "$tmp/server.err"; exit 1
}
stop() {
	kill "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=
}
