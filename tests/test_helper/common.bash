# common.bash: loaded by every tests/*.bats with `load test_helper/common`.
#
# Provides:
#   CULVERT        the binary under test (env override, e.g. an ASan build)
#   PYTHON         the system's python3 (/usr/bin/python3, which make check
#                  installs), else the first in PATH; env override
#   HELPERS        tests/helpers (target.py, fakeproxy.py)
#   HELPER_BIN     the C helpers built from tests/helpers/*.c
#   RELAY_OPTS     array from $CULVERT_RELAY_OPTS, appended by data-path
#                  tests to culvert's options (e.g. --no-splice)
#   start_helper NAME SCRIPT.py ARGS...   start a helper, wait for its port;
#                  sets NAME_PORT and NAME_PID
#   start_target NAME MODE ARGS...        target.py MODE ARGS
#   start_loopback_target NAME MODE ARGS...  the same on 127.0.0.1 and ::1
#   ipv6_loopback; require_ipv6_loopback  can ::1 be listened on; else skip
#   addresses_of NAME                     what culvert resolves NAME to
#   private_hosts LINE...                 a hosts file of the test's own
#   start_proxy  NAME SCRIPT [OPTS...]    fakeproxy.py --script SCRIPT
#                  --log $HELPER_DIR/NAME.log; sets NAME_LOG too
#   proxy_connections NAME                connections the proxy has accepted
#   wait_for 'COMMAND' SECONDS            poll until COMMAND succeeds
#   now; elapsed_since START              wall clock in seconds (float)
#   assert_elapsed_between START MIN MAX
#   gen N          target.py gen N (the deterministic stream) to stdout
#   free_port      a TCP port on 127.0.0.1 nobody listens on right now
#   assert_one_culvert_line               $stderr is one "culvert: " line
#
# Helpers started in setup_file live until teardown_file; helpers started in
# setup or a test are stopped by teardown.  Files that define their own
# teardown/teardown_file must call common_teardown/common_teardown_file.

# Variables set here are used by the test files that load this one.
# shellcheck disable=SC2034

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TESTS_DIR=$(cd "$BATS_TEST_DIRNAME" && pwd)
HELPERS="$TESTS_DIR/helpers"
: "${CULVERT:=$TESTS_DIR/../culvert}"
# Not a python3 that PATH finds first: a version manager's shim (pyenv's
# costs about 0.4 s a start) would be most of the suite's time.
if [[ -z ${PYTHON:-} ]]; then
	PYTHON=python3
	[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3
fi
export CULVERT PYTHON
# The C helpers built with this culvert (make helpers), sanitizers alike.
if [[ $CULVERT == */build/asan/culvert ]]; then
	HELPER_BIN=${CULVERT%/culvert}/helpers
else
	HELPER_BIN=$TESTS_DIR/../build/helpers
fi
read -r -a RELAY_OPTS <<< "${CULVERT_RELAY_OPTS:-}"

# Where helper state (port files, logs, pid lists) goes: per test when a
# test is running, per file in setup_file.
helper_dir() {
	if [[ -n "${BATS_TEST_TMPDIR:-}" && -z "${_IN_SETUP_FILE:-}" ]]; then
		printf '%s\n' "$BATS_TEST_TMPDIR"
	else
		printf '%s\n' "$BATS_FILE_TMPDIR"
	fi
}

now() {
	printf '%s\n' "$EPOCHREALTIME"
}

elapsed_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}

# assert_elapsed_between START MIN MAX: MIN <= seconds since START <= MAX.
assert_elapsed_between() {
	local took
	took=$(elapsed_since "$1")
	if ! awk -v t="$took" -v lo="$2" -v hi="$3" \
	    'BEGIN { exit !(t >= lo && t <= hi) }'; then
		fail "took ${took}s, expected between $2 and $3 s"
	fi
}

# wait_for 'COMMAND' SECONDS: run COMMAND (eval'd) until it succeeds or
# SECONDS have passed; return 1 on timeout.
wait_for() {
	local cond=$1 limit=${2:-10} deadline
	deadline=$(awk -v n="$EPOCHREALTIME" -v l="$limit" \
	    'BEGIN { printf "%.6f\n", n + l }')
	while ! eval "$cond"; do
		if awk -v n="$EPOCHREALTIME" -v d="$deadline" \
		    'BEGIN { exit !(n > d) }'; then
			return 1
		fi
		sleep 0.02
	done
}

# start_helper NAME SCRIPT.py ARGS...: start tests/helpers/SCRIPT.py in the
# background (fd 3 closed so bats does not wait for it), wait for its port
# file, set NAME_PORT and NAME_PID.
start_helper() {
	local name=$1 script=$2 dir pf pid
	shift 2
	dir=$(helper_dir)
	pf="$dir/$name.port"
	rm -f "$pf"
	"$PYTHON" "$HELPERS/$script" --port-file "$pf" "$@" \
	    </dev/null >"$dir/$name.out" 2>"$dir/$name.err" 3>&- &
	pid=$!
	echo "$pid" >>"$dir/helper.pids"
	if ! wait_for "[[ -s '$pf' ]] || process_gone $pid" 10 ||
	    [[ ! -s "$pf" ]]; then
		fail "$name ($script $*) did not start: $(cat "$dir/$name.err")"
	fi
	printf -v "${name}_PORT" '%s' "$(<"$pf")"
	printf -v "${name}_PID" '%s' "$pid"
}

# start_target NAME MODE ARGS... [--host ::1 goes first if wanted]
start_target() {
	local name=$1
	shift
	start_helper "$name" target.py "$@"
}

# start_loopback_target NAME MODE ARGS...: start_target listening on
# 127.0.0.1 and, where the machine has IPv6 loopback, on ::1, both on one
# port.  For targets named by a name such as localhost, which resolves to
# ::1 first on some machines (Debian's /etc/hosts) and to 127.0.0.1 on
# others.
start_loopback_target() {
	local name=$1
	shift
	local -a hosts=(--host 127.0.0.1)
	if ipv6_loopback; then
		hosts+=(--host ::1)
	fi
	start_target "$name" "${hosts[@]}" "$@"
}

# ipv6_loopback: true when a socket can listen on ::1 here.  The answer is
# kept in _IPV6_LOOPBACK (exported, so setup_file asks once per file).
ipv6_loopback() {
	if [[ -z ${_IPV6_LOOPBACK:-} ]]; then
		_IPV6_LOOPBACK=no
		if "$PYTHON" -c 'import socket
socket.create_server(("::1", 0), family=socket.AF_INET6)' 2>/dev/null; then
			_IPV6_LOOPBACK=yes
		fi
		export _IPV6_LOOPBACK
	fi
	[[ $_IPV6_LOOPBACK == yes ]]
}

# require_ipv6_loopback: skip the test where nothing can listen on ::1.
require_ipv6_loopback() {
	ipv6_loopback || skip "this machine has no IPv6 loopback (cannot listen on ::1)"
}

# addresses_of NAME: the addresses getaddrinfo gives for NAME, in its order,
# one a line, each once, asked the way culvert asks (AF_UNSPEC,
# SOCK_STREAM, AI_ADDRCONFIG); through the private hosts file when the test
# has one (private_hosts).  Returns 1 when NAME does not resolve.
addresses_of() {
	local -a ns=()
	[[ -n ${WITH_HOSTS:-} ]] && ns=("$WITH_HOSTS")
	"${ns[@]}" "$PYTHON" -c 'import socket, sys
seen = []
for ai in socket.getaddrinfo(sys.argv[1], None, socket.AF_UNSPEC,
                             socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG):
    if ai[4][0] not in seen:
        seen.append(ai[4][0])
        print(ai[4][0])' "$1" 2>/dev/null
}

# private_hosts LINE...: give the rest of this test a hosts file of these
# lines in place of the machine's /etc/hosts, so that the test decides
# what a name resolves to: culvert (through run_culvert) and addresses_of
# run in a private mount namespace with the file bound over /etc/hosts
# (unshare, with a user namespace when not root); the machine's file is
# not touched.  Sets CULVERT to a wrapper and WITH_HOSTS to a script that
# runs any command that way.  Returns 1, changing nothing, where no such
# namespace can be made (e.g. a container without CAP_SYS_ADMIN).
private_hosts() {
	local dir=$BATS_TEST_TMPDIR unshare='unshare --mount'
	((EUID == 0)) || unshare='unshare --user --map-root-user --mount'
	printf '%s\n' "$@" >"$dir/hosts"
	cat >"$dir/with-hosts" <<-EOF
		#!/bin/sh
		# with-hosts CMD ARGS...: CMD with $dir/hosts as /etc/hosts.
		exec $unshare sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' \\
		    '$dir/hosts' "\$@"
	EOF
	printf '#!/bin/sh\nexec %s %s "$@"\n' "'$dir/with-hosts'" "'$CULVERT'" \
	    >"$dir/culvert-with-hosts"
	chmod 0755 "$dir/with-hosts" "$dir/culvert-with-hosts"
	"$dir/with-hosts" cmp -s "$dir/hosts" /etc/hosts 2>/dev/null || return 1
	WITH_HOSTS=$dir/with-hosts
	CULVERT=$dir/culvert-with-hosts
}

# start_proxy NAME SCRIPT [fakeproxy options...]; sets NAME_LOG too.
start_proxy() {
	local name=$1 script=$2 dir
	shift 2
	dir=$(helper_dir)
	printf -v "${name}_LOG" '%s' "$dir/$name.log"
	start_helper "$name" fakeproxy.py --script "$script" \
	    --log "$dir/$name.log" "$@"
}

# proxy_connections NAME [HOST]: print how many connections the fake proxy
# NAME has accepted (not counting this query).  Exact, not a guess: the
# query is accepted after every earlier connection.
proxy_connections() {
	local port_var="${1}_PORT" host=${2:-127.0.0.1} fd reply n
	exec {fd}<>"/dev/tcp/$host/${!port_var}" || return 1
	printf 'SYNC\r\n\r\n' >&"$fd"
	read -r -t 10 reply n <&"$fd"
	exec {fd}>&-
	[[ $reply == SYNCED ]] || return 1
	printf '%s\n' "$n"
}

# process_gone PID: true when PID has exited (a zombie counts as gone).
process_gone() {
	local state
	[[ -r /proc/$1/stat ]] || return 0
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
	[[ -z $state || $state == Z ]]
}

# stop_pids FILE: TERM every pid listed, wait (bounded), then KILL.
stop_pids() {
	local file=$1 pid
	[[ -f "$file" ]] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done <"$file"
	while read -r pid; do
		wait_for "process_gone $pid" 5 ||
		    kill -9 "$pid" 2>/dev/null || true
	done <"$file"
	rm -f "$file"
}

common_teardown() {
	stop_pids "$BATS_TEST_TMPDIR/helper.pids"
}

common_teardown_file() {
	stop_pids "$BATS_FILE_TMPDIR/helper.pids"
}

teardown() {
	common_teardown
}

teardown_file() {
	common_teardown_file
}

# Call at the start of setup_file so helpers land in the per-file scope.
begin_setup_file() {
	_IN_SETUP_FILE=1
}

end_setup_file() {
	unset _IN_SETUP_FILE
	# setup_file's variables reach the tests only when exported.
	local v
	for v in $(compgen -v | grep -E '_(PORT|PID|LOG)$'); do
		export "${v?}"
	done
}

gen() {
	"$PYTHON" "$HELPERS/target.py" gen "$1"
}

gen_sha() {
	gen "$1" | sha256sum | cut -d' ' -f1
}

file_sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# $stderr is exactly one line and it starts with "culvert: ".
assert_one_culvert_line() {
	if (( ${#stderr_lines[@]} != 1 )); then
		fail "expected one line on stderr, got ${#stderr_lines[@]}: $stderr"
	fi
	if [[ ${stderr_lines[0]} != "culvert: "* ]]; then
		fail "stderr does not start with 'culvert: ': $stderr"
	fi
}

# Every line of $stderr starts with "culvert: ".
assert_all_culvert_lines() {
	local l
	for l in "${stderr_lines[@]}"; do
		[[ $l == "culvert: "* ]] || fail "stray stderr line: $l"
	done
}

# clean_env: unset every variable culvert reads to choose a proxy or find
# credentials, so nothing from the machine's environment reaches a test;
# a test sets exactly the variables it is about.
clean_env() {
	unset CULVERT_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY \
	    http_proxy HTTP_PROXY NO_PROXY no_proxy REQUEST_METHOD \
	    CULVERT_PROXY_USER CULVERT_PROXY_PASSWORD \
	    SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY WAYLAND_DISPLAY
}

require_culvert() {
	[[ -x "$CULVERT" ]] || fail "no culvert binary at $CULVERT (run make)"
}

# run_culvert ARGS...: run "timeout ${CULVERT_TIMEOUT:-10} $CULVERT ARGS"
# with the caller's stdin, stdout to the file $OUT (binary safe) and stderr
# to $ERR.  Sets status, stderr, stderr_lines, OUT_SIZE, and output (stdout
# as text, NUL bytes dropped: use $OUT for exact comparisons).
run_culvert() {
	OUT="$BATS_TEST_TMPDIR/culvert.out"
	ERR="$BATS_TEST_TMPDIR/culvert.err"
	status=0
	timeout "${CULVERT_TIMEOUT:-10}" "$CULVERT" "$@" >"$OUT" 2>"$ERR" ||
	    status=$?
	stderr=$(<"$ERR")
	mapfile -t stderr_lines <"$ERR"
	OUT_SIZE=$(wc -c <"$OUT")
	output=$(tr -d '\0' <"$OUT")
}
