# listen.bash: running culvert in listen mode in the background.
# Load after common.bash (and servers.bash when used).
#
#   start_listen NAME ARGS...   run "$CULVERT ARGS" in the background with
#                  stderr in NAME_LOG; wait until it has logged that it
#                  listens (or has died: then fail with its log).  Sets
#                  NAME_PID and NAME_LOG; stopped by teardown like helpers.
#   listen_ports N               N free loopback ports, one per line
#   wait_log NAME REGEX [SECONDS]  poll NAME_LOG until a line matches
#   listening_on PORT            the local address a TCP socket listens
#                  on at PORT (ss), e.g. 127.0.0.1:2222

start_listen() {
	local name=$1 dir log pid
	shift
	dir=$(helper_dir)
	log="$dir/$name.log"
	: >"$log"
	"$CULVERT" "$@" </dev/null >"$dir/$name.out" 2>"$log" 3>&- &
	pid=$!
	echo "$pid" >>"$dir/helper.pids"
	if ! wait_for "grep -q 'listening: ' '$log' || process_gone $pid" 15 ||
	    process_gone "$pid"; then
		fail "culvert $* did not start listening: $(cat "$log")"
	fi
	printf -v "${name}_PID" '%s' "$pid"
	printf -v "${name}_LOG" '%s' "$log"
}

listen_ports() {
	"$PYTHON" - "$1" <<-'PYEOF'
		import socket, sys
		socks = []
		for _ in range(int(sys.argv[1])):
		    s = socket.socket()
		    s.bind(("127.0.0.1", 0))
		    socks.append(s)
		for s in socks:
		    print(s.getsockname()[1])
	PYEOF
}

wait_log() {
	local log_var="${1}_LOG"
	wait_for "grep -Eq '$2' '${!log_var}'" "${3:-10}" ||
	    fail "no line matching '$2' in $1's log: $(cat "${!log_var}")"
}

listening_on() {
	ss -ltnH "sport = :$1" | awk '{ print $4 }'
}

# tcp ARGS...: tcpclient.py under timeout; stdout is what came back.
tcp() {
	timeout 60 "$PYTHON" "$HELPERS/tcpclient.py" "$@"
}
