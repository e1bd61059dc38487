#!/usr/bin/env bats
# culvert serve and the HTTP tunnel (--tunnel URL): ssh through a real
# squid that forbids CONNECT, with and without proxy authentication;
# proxies that break or hold back requests; what the server refuses
# (targets, tokens, replays, skewed clocks, oversized requests) while
# good sessions go on; serve as a CONNECT proxy; its log lines.

# output, lines and status come from bats' run.
# shellcheck disable=SC2154

load test_helper/common
load test_helper/servers
load test_helper/listen
load test_helper/serve

setup_file() {
	begin_setup_file
	make_token "$BATS_FILE_TMPDIR/token"
	make_token "$BATS_FILE_TMPDIR/wrong"
	start_target ECHO echo
	start_target SRC source 1M
	start_target WEB http 1M
	start_target DUPLEX duplex 3M 3M
	start_target SINK sink
	start_target HALF duplex 1M
	start_target STALL stall
	end_setup_file
	start_sshd
	local allow=(--allow "127.0.0.1:$SSHD_PORT" --allow "127.0.0.1:$ECHO_PORT"
	    --allow "127.0.0.1:$DUPLEX_PORT" --allow "127.0.0.1:$STALL_PORT")
	start_serve SERVE "${allow[@]}" --token-file "$BATS_FILE_TMPDIR/token"
	# no token (loopback only): the CONNECT proxy for curl and ssh
	start_serve PLAIN "${allow[@]}" --allow "127.0.0.1:$SRC_PORT" \
	    --allow "127.0.0.1:$WEB_PORT" --allow "127.0.0.1:$HALF_PORT"
	export SERVE_PORT SERVE_PID SERVE_LOG SERVE_URL PLAIN_PORT PLAIN_PID \
	    PLAIN_LOG PLAIN_URL
	start_squid --deny-connect "$SERVE_PORT"
	start_squid --name SQUIDAUTH --basic alice 's3cret pass' --deny-connect \
	    "$SERVE_PORT"
	start_tinyproxy 443	# CONNECT to the server refused
}

setup() {
	require_culvert
	clean_env
	export CULVERT_TOKEN_FILE="$BATS_FILE_TMPDIR/token"
}

# check_duplex FILE N EXPECT: FILE holds N bytes of the test stream and
# then the line the duplex target wrote about the EXPECT bytes it got.
check_duplex() {
	local n
	n=$(numfmt --from=iec "$2")
	assert_equal "$(head -c "$n" "$1" | sha256sum | cut -d' ' -f1)" \
	    "$(gen_sha "$2")"
	assert_equal "$(tail -c +$((n + 1)) "$1")" \
	    "$(gen_sha "$3") $(numfmt --from=iec "$3")"
}

# The id (8 hex digits) of the session a log's "opened" line names for
# the target 127.0.0.1:$2 -- the last one.
session_of() {
	sed -n "s/.*session \([0-9a-f]\{8\}\) opened by .* to 127\.0\.0\.1:$2\$/\1/p" \
	    "$1" | tail -1
}

## ssh through squid that forbids CONNECT ##################################

@test "ssh moves 20 MiB each way through squid that denies CONNECT (HTTP requests)" {
	local pc="$CULVERT --tunnel $SERVE_URL -p http://127.0.0.1:$SQUID_PORT %h %p"
	local opened="session [0-9a-f]{8} opened by .* to 127\.0\.0\.1:$SSHD_PORT$" before
	before=$(grep -cE "$opened" "$SERVE_LOG" || true)
	ssh_both_ways "$pc" $((20 << 20))
	# culvert tried CONNECT, squid refused, the requests went through it
	grep -Eq "TCP_DENIED/403 .* CONNECT 127\.0\.0\.1:$SERVE_PORT " \
	    "$SQUID_DIR/access.log"
	grep -q "POST http://127.0.0.1:$SERVE_PORT/culvert/up?" \
	    "$SQUID_DIR/access.log"
	grep -q "GET http://127.0.0.1:$SERVE_PORT/culvert/down?" \
	    "$SQUID_DIR/access.log"
	# the ssh session was a culvert session, and it ended
	run grep -cE "$opened" "$SERVE_LOG"
	assert_equal "$output" $((before + 1))
	wait_log SERVE "session $(session_of "$SERVE_LOG" "$SSHD_PORT") closed after .* \(closed by the client\)"
}

@test "ssh moves 20 MiB each way through squid that denies CONNECT and wants Basic" {
	export CULVERT_PROXY_PASSWORD='s3cret pass'
	local pc="$CULVERT --tunnel $SERVE_URL -U alice -p http://127.0.0.1:$SQUIDAUTH_PORT %h %p"
	ssh_both_ways "$pc" $((20 << 20))
	grep -Eq " alice HIER_DIRECT/127\.0\.0\.1 " "$SQUIDAUTH_DIR/access.log"
	grep -q "POST http://127.0.0.1:$SERVE_PORT/culvert/up?" \
	    "$SQUIDAUTH_DIR/access.log"
}

@test "a wrong proxy password through squid that denies CONNECT exits 5" {
	CULVERT_PROXY_PASSWORD=wrong run_culvert --tunnel "$SERVE_URL" -U alice \
	    -p "http://127.0.0.1:$SQUIDAUTH_PORT" 127.0.0.1 "$ECHO_PORT" \
	    </dev/null
	assert_equal "$status" 5
	assert_one_culvert_line
	assert_output ""
}

@test "an upload faster than the target takes it arrives intact over each transport" {
	local t want
	# the target reads at most 8 MB/s: the server's buffer fills
	start_cutter SLOW --to "127.0.0.1:$SINK_PORT" --rate 8000000
	start_serve B --allow "127.0.0.1:$SLOW_PORT"
	head -c 6M /dev/urandom >"$BATS_TEST_TMPDIR/up"
	want="$(file_sha "$BATS_TEST_TMPDIR/up") $((6 << 20))"
	for t in stream http; do
		CULVERT_TIMEOUT=30 run_culvert -N --tunnel "$B_URL" \
		    --tunnel-transport "$t" 127.0.0.1 "$SLOW_PORT" \
		    <"$BATS_TEST_TMPDIR/up"
		assert_equal "$status" 0
		assert_output "$want"
	done
}

## proxies that break or hold back requests ################################

# cpu_ticks PID...: the CPU time (user + system, in clock ticks) of PIDs.
cpu_ticks() {
	local pid t=0 f
	for pid in "$@"; do
		read -r -a f 2>/dev/null <"/proc/$pid/stat" || return 1
		t=$((t + f[13] + f[14]))
	done
	echo "$t"
}

# idle_second PID...: true when PIDs used under 5 % of a CPU over a second.
idle_second() {
	local a b
	a=$(cpu_ticks "$@") || return 1
	sleep 1
	b=$(cpu_ticks "$@") || return 1
	((b - a < $(getconf CLK_TCK) / 20))
}

@test "an upload into a target that reads nothing waits without a busy loop over each transport" {
	local t pid
	for t in http stream; do
		timeout 60 "$CULVERT" --tunnel "$SERVE_URL" --tunnel-transport "$t" \
		    127.0.0.1 "$STALL_PORT" < <(head -c 64M /dev/zero) >/dev/null \
		    2>"$BATS_TEST_TMPDIR/err" 3>&- &
		pid=$!
		wait_for "pgrep -P $pid -x culvert >/dev/null" 10 ||
		    fail "$t: culvert did not start"
		pid=$(pgrep -P "$pid" -x culvert)
		# the tunnel fills the buffers on the way, then both ends idle
		wait_for "idle_second $SERVE_PID $pid" 20 ||
		    fail "$t: culvert or culvert serve stays busy while the target reads nothing"
		! process_gone "$pid" || fail "$t: culvert ended: $(cat "$BATS_TEST_TMPDIR/err")"
		kill "$pid"
		wait_for "process_gone $pid" 10 || fail "$t: culvert did not end on SIGTERM"
	done
}

@test "the stream arrives intact both ways through a proxy that drops, delays and resets requests" {
	start_chaos CHAOS --faults 0.3 --seed 7
	gen 3M >"$BATS_TEST_TMPDIR/up"
	CULVERT_TIMEOUT=90 run_culvert --tunnel "$SERVE_URL" \
	    -p "http://127.0.0.1:$CHAOS_PORT" --tunnel-transport http \
	    127.0.0.1 "$DUPLEX_PORT" <"$BATS_TEST_TMPDIR/up"
	assert_equal "$status" 0
	check_duplex "$OUT" 3M 3M
	# the faults did happen, answers lost after the server acted too
	run grep -cE ' (drop|reset)-request$' "$CHAOS_LOG"
	(( output >= 1 )) || fail "no request dropped: $(cat "$CHAOS_LOG")"
	run grep -cE ' [0-9]+ (drop|reset|truncate)-response$' "$CHAOS_LOG"
	(( output >= 2 )) || fail "no answer lost: $(cat "$CHAOS_LOG")"
	run grep -cE ' [0-9]+ delay$' "$CHAOS_LOG"
	(( output >= 1 )) || fail "nothing delayed: $(cat "$CHAOS_LOG")"
}

@test "HTTP requests keep their connections to squid, and through tinyproxy (which closes them unsaid) open one each" {
	local p port_var want
	gen 3M >"$BATS_TEST_TMPDIR/up"
	for p in SQUID TINYPROXY; do
		port_var=${p}_PORT
		CULVERT_TIMEOUT=60 run_culvert -v --tunnel "$SERVE_URL" \
		    -p "http://127.0.0.1:${!port_var}" 127.0.0.1 "$DUPLEX_PORT" \
		    <"$BATS_TEST_TMPDIR/up"
		assert_equal "$status" 0
		check_duplex "$OUT" 3M 3M
		grep -q 'using HTTP requests' "$ERR" || fail "$p: no fallback: $stderr"
		want=1
		[[ $p == TINYPROXY ]] || want=0
		run grep -c 'the path closes connections between requests' "$ERR"
		assert_output "$want"
		# a request that failed on a kept connection is no break
		run grep -E 'broke|goes on' "$ERR"
		assert_output ""
	done
}

@test "ssh works through a proxy that holds back each whole request and answer" {
	start_chaos BUF --hold 0.02
	local pc="$CULVERT --tunnel $SERVE_URL -p http://127.0.0.1:$BUF_PORT %h %p"
	ssh_both_ways "$pc" $((2 << 20))
	# auto: CONNECT refused, then HTTP requests, all through the proxy
	grep -q "^CONNECT 127.0.0.1:$SERVE_PORT 403" "$BUF_LOG"
	grep -q '^POST /culvert/up?.* 200 -$' "$BUF_LOG"
	grep -q '^GET /culvert/down?.* 200 -$' "$BUF_LOG"
}

## what the server refuses #################################################

# through_serve NAME RESULT HOST PORT: a CONNECT through culvert serve
# NAME to HOST PORT (the echo target's port): RESULT "ok" (the echo comes
# back) or "403" (exit 4, and a log line).
through_serve() {
	local name=$1 want=$2 host=$3 port=$4 port_var="${1}_PORT"
	run_culvert -N -p "http://127.0.0.1:${!port_var}" "$host" "$port" <<<ping
	if [[ $want == ok ]]; then
		assert_equal "$status" 0
		assert_output ping
	else
		assert_equal "$status" 4
		assert_one_culvert_line
		assert_stderr_has "403 Forbidden"
		wait_log "$name" "403 Forbidden: $host:$port is not allowed"
	fi
}

assert_stderr_has() {
	[[ $stderr == *"$1"* ]] || fail "stderr lacks '$1': $stderr"
}

@test "--allow rules: ports, names, addresses, and names that resolve outside them" {
	# an address rule; a name passes at the addresses that do (localhost
	# at 127.0.0.1, also where it is ::1 first, as on Debian)
	start_serve A --allow "127.0.0.1:$ECHO_PORT"
	through_serve A ok 127.0.0.1 "$ECHO_PORT"
	through_serve A 403 127.0.0.1 "$SRC_PORT"
	through_serve A ok localhost "$ECHO_PORT"
	# localhost resolves to 127.0.0.1 (and ::1): outside 10.0.0.0/8
	start_serve B --allow '10.0.0.0/8:*' --allow "other.invalid:$ECHO_PORT" \
	    --allow '*.localdomain:*'
	through_serve B 403 127.0.0.1 "$ECHO_PORT"
	through_serve B 403 localhost "$ECHO_PORT"
	# a name rule lets the name in, not its address; ranges of ports
	start_serve C --allow "localhost:$ECHO_PORT" --allow '127.0.0.0/8:*'
	through_serve C ok localhost "$ECHO_PORT"
	through_serve C ok 127.0.0.1 "$ECHO_PORT"
	start_serve D --allow "localhost:$ECHO_PORT"
	through_serve D 403 127.0.0.1 "$ECHO_PORT"
	through_serve D 403 localhost "$SRC_PORT"
}

@test "a name is connected to only at those of its addresses that --allow rules allow" {
	# mixed.test is 127.0.0.1 and 127.0.0.2; only 127.0.0.2 listens.
	# Allowing 127.0.0.1 alone must not reach it through the name: the
	# server tries 127.0.0.1 only, which refuses (tried in turn, the
	# other address would connect whatever the order).
	private_hosts "127.0.0.2 mixed.test" "127.0.0.1 mixed.test" ||
	    skip "no private /etc/hosts here (unshare --mount is not allowed)"
	assert_equal "$(addresses_of mixed.test | sort | tr '\n' ' ')" \
	    "127.0.0.1 127.0.0.2 "
	start_target TRAP --host 127.0.0.2 echo
	start_serve E --allow "127.0.0.1:$TRAP_PORT"
	through_serve E 403 127.0.0.2 "$TRAP_PORT"
	run_culvert -N -p "http://127.0.0.1:$E_PORT" mixed.test "$TRAP_PORT" <<<ping
	assert_equal "$status" 4
	assert_equal "$output" ""
	assert_stderr_has "502"
	assert_stderr_has "mixed.test:$TRAP_PORT"
	wait_log E "cannot connect to mixed.test:$TRAP_PORT"
	start_serve F --allow "127.0.0.2:$TRAP_PORT"
	through_serve F ok mixed.test "$TRAP_PORT"
}

@test "a tunnel to a target outside --allow exits 4 naming the 403" {
	run_culvert --tunnel "$SERVE_URL" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 4
	assert_one_culvert_line
	assert_stderr_has "403 Forbidden"
	assert_stderr_has "127.0.0.1:$SRC_PORT is not allowed"
	wait_log SERVE "403 Forbidden: 127.0.0.1:$SRC_PORT is not allowed"
}

@test "culvert serve without --allow refuses every target and says so at start" {
	start_serve A
	grep -q 'no --allow rules: every target will be refused' "$A_LOG"
	run_culvert -N -p "http://127.0.0.1:$A_PORT" 127.0.0.1 \
	    "$ECHO_PORT" <<<ping
	assert_equal "$status" 4
	wait_log A 'started without --allow rules'
}

# A request that passes authentication and does nothing: data for a
# session that does not exist (410).
NOSUCH="/culvert/up?s=00000000000000000000000000000000&o=0"

@test "requests without a valid X-Culvert-Auth get 401 and a log line" {
	# a good signature passes (410: no such session)
	run ask "$SERVE_PORT" POST "$NOSUCH" "X-Culvert-Auth: $(sign POST "$NOSUCH")"
	assert_line --index 0 --regexp '^HTTP/1.1 410 '
	run ask "$SERVE_PORT" POST "$NOSUCH"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	assert_line --index 1 'refused: no X-Culvert-Auth (the server wants a token)'
	run ask "$SERVE_PORT" POST "$NOSUCH" "X-Culvert-Auth: v1 1234 5678 abcd"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	assert_line --index 1 'refused: malformed X-Culvert-Auth'
	run ask "$SERVE_PORT" POST "$NOSUCH" \
	    "X-Culvert-Auth: $(sign POST "$NOSUCH" "$BATS_FILE_TMPDIR/wrong")"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	assert_line --index 1 'refused: wrong token'
	# signed for another path, or another method
	run ask "$SERVE_PORT" POST "/culvert/open?t=127.0.0.1:$ECHO_PORT" \
	    "X-Culvert-Auth: $(sign POST /culvert/open?t=127.0.0.1:22)"
	assert_line --index 1 'refused: wrong token'
	run ask "$SERVE_PORT" POST "$NOSUCH" "X-Culvert-Auth: $(sign GET "$NOSUCH")"
	assert_line --index 1 'refused: wrong token'
	# CONNECT wants it too: 407
	run ask "$SERVE_PORT" CONNECT "127.0.0.1:$ECHO_PORT"
	assert_line --index 0 --regexp '^HTTP/1.1 407 '
	wait_log SERVE '401 Unauthorized: refused: no X-Culvert-Auth'
	wait_log SERVE '401 Unauthorized: refused: malformed X-Culvert-Auth'
	wait_log SERVE '401 Unauthorized: refused: wrong token'
	wait_log SERVE '407 Proxy Authentication Required: refused'
}

@test "a clock more than 5 minutes off is refused both ways" {
	local skew
	for skew in 330 -330; do
		run ask "$SERVE_PORT" POST "$NOSUCH" \
		    "X-Culvert-Auth: $(sign POST "$NOSUCH" "" "$skew")"
		assert_line --index 0 --regexp '^HTTP/1.1 401 '
		assert_line --index 1 'refused: clocks differ by more than 5 minutes'
	done
	for skew in 270 -270; do
		run ask "$SERVE_PORT" POST "$NOSUCH" \
		    "X-Culvert-Auth: $(sign POST "$NOSUCH" "" "$skew")"
		assert_line --index 0 --regexp '^HTTP/1.1 410 '
	done
	wait_log SERVE 'refused: clocks differ by more than 5 minutes'
}

@test "a captured request sent again is refused as a replay" {
	start_cutter TAP --to "127.0.0.1:$SERVE_PORT" --tap "$BATS_TEST_TMPDIR"
	run_culvert -N --tunnel "http://127.0.0.1:$TAP_PORT/" \
	    127.0.0.1 "$ECHO_PORT" <<<hello
	assert_equal "$status" 0
	assert_output hello
	grep -q "^POST /culvert/stream?t=127.0.0.1:$ECHO_PORT&n=1 HTTP/1.1" \
	    "$BATS_TEST_TMPDIR/1.up"
	run http_answer "$SERVE_PORT" < <(sed '/^\r$/q' "$BATS_TEST_TMPDIR/1.up")
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	assert_line --index 1 'refused: replayed request (nonce seen before)'
	wait_log SERVE '401 Unauthorized: refused: replayed request'
	# the same with a request of our own, sent twice
	local auth
	auth=$(sign POST "$NOSUCH")
	run ask "$SERVE_PORT" POST "$NOSUCH" "X-Culvert-Auth: $auth"
	assert_line --index 0 --regexp '^HTTP/1.1 410 '
	run ask "$SERVE_PORT" POST "$NOSUCH" "X-Culvert-Auth: $auth"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
}

@test "oversized heads and bodies, conflicting lengths, chunked bodies and garbage get 4xx" {
	local up="/culvert/up?s=00000000000000000000000000000000&o=0" pad
	printf -v pad '%20000s' p
	run ask "$SERVE_PORT" POST "$up" "X-Pad: $pad"
	assert_line --index 0 --regexp '^HTTP/1.1 431 '
	run ask "$SERVE_PORT" POST "/culvert/open?t=x:1" "Content-Length: 300000"
	assert_line --index 0 --regexp '^HTTP/1.1 413 '
	run ask "$SERVE_PORT" POST "$up" "Content-Length: 20000000"
	assert_line --index 0 --regexp '^HTTP/1.1 413 '
	run ask "$SERVE_PORT" POST "$up" "Content-Length: -5"
	assert_line --index 0 --regexp '^HTTP/1.1 400 '
	run ask "$SERVE_PORT" POST "$up" "Content-Length: 0" "Content-Length: 40"
	assert_line --index 0 --regexp '^HTTP/1.1 400 '
	run ask "$SERVE_PORT" POST "$NOSUCH" "Content-Length: 0" "Content-Length: 0"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	run ask "$SERVE_PORT" POST "/culvert/open?t=x:1" "Transfer-Encoding: chunked"
	assert_line --index 0 --regexp '^HTTP/1.1 400 '
	run ask "$SERVE_PORT" POST "$up" "Transfer-Encoding: gzip, chunked"
	assert_line --index 0 --regexp '^HTTP/1.1 400 '
	run ask "$SERVE_PORT" POST "$up" "Transfer-Encoding: chunked" \
	    "Content-Length: 5"
	assert_line --index 0 --regexp '^HTTP/1.1 400 '
	run http_answer "$SERVE_PORT" < <(printf 'HELLO\r\n\r\n')
	assert_line --index 0 --regexp '^HTTP/1.1 400 '
	run ask "$SERVE_PORT" GET /index.html
	assert_line --index 0 --regexp '^HTTP/1.1 404 '
	wait_log SERVE '431 Request Header Fields Too Large: request head over 16384 bytes'
	wait_log SERVE '413 Content Too Large: a body of 300000 bytes; at most 262144'
	wait_log SERVE '413 Content Too Large: a body of 20000000 bytes; at most 16777216'
	wait_log SERVE '400 Bad Request: bad Content-Length'
	wait_log SERVE '400 Bad Request: chunked request bodies are taken by uploads'
	wait_log SERVE '400 Bad Request: a Transfer-Encoding other than chunked, or with a Content-Length'
	wait_log SERVE '400 Bad Request: not an HTTP/1.x request'
}

# get_signed PATH: a signed GET of PATH, through http_whole.
get_signed() {
	printf 'GET %s HTTP/1.1\r\nHost: x\r\nX-Culvert-Auth: %s\r\n%s\r\n\r\n' \
	    "$1" "$(sign GET "$1")" 'Connection: close' | http_whole "$SERVE_PORT"
}

# post_chunked PATH BODY: a signed POST of PATH with a chunked BODY (as
# written on the wire), through http_whole.
post_chunked() {
	printf 'POST %s HTTP/1.1\r\nHost: x\r\nX-Culvert-Auth: %s\r\n%s\r\n\r\n%b' \
	    "$1" "$(sign POST "$1")" \
	    $'Transfer-Encoding: chunked\r\nConnection: close' "$2" |
	    http_whole "$SERVE_PORT"
}

@test "an upload's chunked body is taken as it comes; bad chunks get 400" {
	local open sid up down
	open="/culvert/open?t=127.0.0.1:$ECHO_PORT"
	open=$(printf 'POST %s HTTP/1.1\r\nHost: x\r\nX-Culvert-Auth: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
	    "$open" "$(sign POST "$open")" | http_whole "$SERVE_PORT")
	sid=$(sed -n 's/^X-Culvert-Session: \([0-9a-f]*\)$/\1/p' <<<"$open")
	[[ ${#sid} == 32 ]] || fail "no session: $open"
	# framing that is not chunked: 400; what came before it is taken
	up="/culvert/up?s=$sid&o=0"
	run post_chunked "$up" 'zz\r\nhello\r\n0\r\n\r\n'
	assert_line --index 0 --regexp '^HTTP/1.1 400 '
	run post_chunked "$up" '5\r\nhelloXX0\r\n\r\n'
	assert_line --index 0 --regexp '^HTTP/1.1 400 '
	wait_log SERVE '400 Bad Request: bad chunked body: no chunk size'
	wait_log SERVE '400 Bad Request: bad chunked body: no CRLF after a chunk'
	# a long poll that takes chunks gets the echo in chunks
	run get_signed "/culvert/down?s=$sid&a=0&c=1"
	assert_line --index 0 --regexp '^HTTP/1.1 200 '
	assert_line 'Transfer-Encoding: chunked'
	assert_line 5
	assert_line hello
	assert_line 0
	# chunks of any size, an extension, a trailer, the end of the input;
	# the bytes taken before are not taken twice
	up="/culvert/up?s=$sid&o=0&eof=1"
	run post_chunked "$up" '3\r\nhel\r\n2;x=y\r\nlo\r\n1\r\nX\r\n0\r\nX-T: 1\r\n\r\n'
	assert_line --index 0 --regexp '^HTTP/1.1 200 '
	assert_line 'X-Culvert-Ack: 6'
	down="/culvert/down?s=$sid&a=5"
	run ask "$SERVE_PORT" GET "$down" "X-Culvert-Auth: $(sign GET "$down")"
	assert_line --index 0 --regexp '^HTTP/1.1 200 '
	assert_line --index 1 X
}

@test "through a proxy that refuses chunked bodies (411), typing goes in whole POSTs" {
	start_chaos NOCHUNK --refuse-chunked
	ECHO_ARGS=(-v -p "http://127.0.0.1:$NOCHUNK_PORT" --tunnel-transport http)
	echo_session
	echo_line two
	echo_line three
	end_echo_session
	grep -q '^POST /culvert/up?.* 411 refused-chunked$' "$NOCHUNK_LOG" ||
	    fail "no chunked upload tried: $(cat "$NOCHUNK_LOG")"
	grep -q 'the path refused a chunked upload' "$BATS_TEST_TMPDIR/err" ||
	    fail "no word of the fallback: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -q '^POST /culvert/up?.* 200 -$' "$NOCHUNK_LOG"
}

@test "after a cut of every connection to the proxy, HTTP requests still keep theirs" {
	start_cutter CUT --to "127.0.0.1:$SQUID_PORT"
	ECHO_ARGS=(-v -p "http://127.0.0.1:$CUT_PORT" --tunnel-transport http)
	echo_session
	echo_line two
	run cutter CUT CUT
	assert_output --regexp '^CUT [1-9]'
	echo_line three
	echo_line four
	end_echo_session
	# both kept connections failed once: a cut, not a proxy without them
	run grep -c 'the path closes connections between requests' \
	    "$BATS_TEST_TMPDIR/err"
	assert_output 0
}

@test "when the proxy goes away under kept connections, HTTP requests give up at --resume-timeout" {
	local t0 st
	start_chaos GONE
	ECHO_ARGS=(-p "http://127.0.0.1:$GONE_PORT" --tunnel-transport http
	    --resume-timeout 3)
	echo_session
	echo_line two	# both connections have been kept open by now
	kill "$GONE_PID"
	wait_for "process_gone $GONE_PID" 10
	t0=$EPOCHSECONDS
	# a fresh connection that cannot open is a break, not a kept one
	wait_for "process_gone $ECHO_PID" 20 ||
	    fail "still running: $(tail -3 "$BATS_TEST_TMPDIR/err")"
	st=0
	wait "$ECHO_PID" || st=$?
	exec {ECHO_W}>&-
	assert_equal "$st" 1
	((EPOCHSECONDS - t0 >= 2)) || fail "gave up before --resume-timeout"
	grep -q 'resume-timeout' "$BATS_TEST_TMPDIR/err" ||
	    fail "no word of the deadline: $(cat "$BATS_TEST_TMPDIR/err")"
}

# echo_session: start a --tunnel session (options: the array ECHO_ARGS,
# when set) to the echo target, fed from
# descriptor $ECHO_W, its output in $ECHO_OUT, its pid $ECHO_PID; returns
# once a first line has come back.
echo_session() {
	local in=$BATS_TEST_TMPDIR/in
	ECHO_OUT=$BATS_TEST_TMPDIR/out
	mkfifo "$in"
	timeout 60 "$CULVERT" --tunnel "$SERVE_URL" \
	    ${ECHO_ARGS[@]+"${ECHO_ARGS[@]}"} 127.0.0.1 "$ECHO_PORT" \
	    <"$in" >"$ECHO_OUT" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	ECHO_PID=$!
	exec {ECHO_W}>"$in"
	echo_line one
}

# echo_line TEXT: TEXT through the echo session comes back.
echo_line() {
	echo "$1" >&"$ECHO_W"
	wait_for "grep -q '$1' '$ECHO_OUT'" 10 ||
	    fail "the session stopped echoing: $(cat "$BATS_TEST_TMPDIR/err")"
}

# end_echo_session: close its input and stop it.
end_echo_session() {
	exec {ECHO_W}>&-
	kill "$ECHO_PID"
	wait "$ECHO_PID" || true
}

@test "a good session goes on while bad requests are refused" {
	local i pad
	printf -v pad '%40000s' p
	echo_session
	for i in 1 2 3; do
		run ask "$SERVE_PORT" POST "$NOSUCH"
		assert_line --index 0 --regexp '^HTTP/1.1 401 '
		run ask "$SERVE_PORT" POST "$NOSUCH" \
		    "X-Culvert-Auth: $(sign POST "$NOSUCH" "$BATS_FILE_TMPDIR/wrong")"
		assert_line --index 0 --regexp '^HTTP/1.1 401 '
		run ask "$SERVE_PORT" POST "$NOSUCH" \
		    "X-Culvert-Auth: $(sign POST "$NOSUCH" "" 900)"
		assert_line --index 0 --regexp '^HTTP/1.1 401 '
		run ask "$SERVE_PORT" POST "$NOSUCH" "X-Pad: $pad"
		assert_line --index 0 --regexp '^HTTP/1.1 431 '
		run ask "$SERVE_PORT" POST "$NOSUCH" "Content-Length: 99999999"
		assert_line --index 0 --regexp '^HTTP/1.1 413 '
		run http_answer "$SERVE_PORT" < <(printf 'garbage\r\n\r\n')
		assert_line --index 0 --regexp '^HTTP/1.1 400 '
		run ask "$SERVE_PORT" CONNECT "127.0.0.1:$ECHO_PORT"
		assert_line --index 0 --regexp '^HTTP/1.1 407 '
		run ask "$SERVE_PORT" POST "/culvert/open?t=127.0.0.1:$SRC_PORT" \
		    "X-Culvert-Auth: $(sign POST "/culvert/open?t=127.0.0.1:$SRC_PORT")"
		assert_line --index 0 --regexp '^HTTP/1.1 403 '
		echo_line "line $i"
	done
	end_echo_session
	! process_gone "$SERVE_PID" || fail "culvert serve died"
}

# slow_head PORT: send a request head one byte every 0.3 s, never ending
# it; print the seconds until the first answer line, then that line.
slow_head() {
	"$PYTHON" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.3)
start, head, got = time.monotonic(), b"GET /culvert/down?s=" + b"0" * 400, b""
for i in range(200):
    if i < len(head):
        try:
            s.send(head[i:i + 1])
        except OSError:
            pass
    try:
        chunk = s.recv(4096)
    except socket.timeout:
        continue
    except OSError:
        break
    if not chunk:
        break
    got += chunk
    if b"\n" in got:
        break
print("%.1f" % (time.monotonic() - start))
print(got.split(b"\r\n")[0].decode("latin-1"))' "$1"
}

@test "a request head sent byte by byte is cut at the head deadline with 408, and a session goes on" {
	local i
	local -a lines
	echo_session
	slow_head "$SERVE_PORT" >"$BATS_TEST_TMPDIR/slow" &
	local slow=$!
	# the session echoes while the slow client trickles its head
	for i in 1 2 3; do
		echo_line "line $i"
	done
	timeout 30 tail --pid="$slow" -f /dev/null
	mapfile -t lines <"$BATS_TEST_TMPDIR/slow"
	[[ ${lines[1]} == "HTTP/1.1 408 "* ]] || fail "answered: ${lines[*]}"
	# HEAD_TIMEOUT_MS is 10 s from the connection, however many bytes come
	awk -v t="${lines[0]}" 'BEGIN { exit !(t >= 9.5 && t <= 13) }' ||
	    fail "408 after ${lines[0]} s, not 10"
	grep -q 'did not arrive in time' "$SERVE_LOG" || fail "no log line"
	echo_line "line 4"
	end_echo_session
}

@test "with --max-sessions reached a new session gets 503, a CONNECT still passes" {
	start_serve B --allow "127.0.0.1:$ECHO_PORT" --max-sessions 1
	run ask "$B_PORT" POST "/culvert/open?t=127.0.0.1:$ECHO_PORT"
	assert_line --index 0 --regexp '^HTTP/1.1 200 '
	CULVERT_TOKEN_FILE='' run_culvert -N --tunnel "$B_URL" 127.0.0.1 \
	    "$ECHO_PORT" <<<ping
	assert_equal "$status" 4
	assert_stderr_has '503 Service Unavailable: too many sessions (1)'
	wait_log B '503 Service Unavailable: too many sessions'
	# a plain CONNECT is not a session
	run_culvert -N -p "$B_URL" 127.0.0.1 "$ECHO_PORT" <<<ping
	assert_equal "$status" 0
	assert_output ping
}

@test "without a token culvert serve listens beyond loopback only with --insecure-no-token" {
	local port
	port=$(free_port)
	run --separate-stderr timeout 10 "$CULVERT" serve --listen "0.0.0.0:$port" \
	    --allow "127.0.0.1:$ECHO_PORT"
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_stderr_has 'without a token would let anyone'
	assert_stderr_has '--insecure-no-token'
	# with --insecure-no-token: a warning, and it serves
	local log=$BATS_TEST_TMPDIR/any.log pid
	port=$(free_port)
	"$CULVERT" serve --listen "0.0.0.0:$port" --allow "127.0.0.1:$ECHO_PORT" \
	    --insecure-no-token </dev/null >/dev/null 2>"$log" 3>&- &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/helper.pids"
	wait_for "grep -q 'serving on' '$log'" 10 || fail "did not start: $(cat "$log")"
	grep -q "warning: culvert serve on 0.0.0.0:$port is reachable from other machines and takes no token" "$log"
	run_culvert -N -p "http://127.0.0.1:$port" 127.0.0.1 "$ECHO_PORT" <<<ping
	assert_equal "$status" 0
	assert_output ping
}

@test "a token file others can read is refused" {
	local tok=$BATS_TEST_TMPDIR/token
	make_token "$tok"
	chmod 644 "$tok"
	run --separate-stderr timeout 10 "$CULVERT" serve --listen "$(free_port)" \
	    --allow "127.0.0.1:$ECHO_PORT" --token-file "$tok"
	assert_equal "$status" 2
	assert_stderr_has 'mode 600'
	CULVERT_TOKEN_FILE=$tok run_culvert --tunnel "$SERVE_URL" 127.0.0.1 \
	    "$ECHO_PORT" </dev/null
	assert_equal "$status" 2
	assert_stderr_has 'mode 600'
}

@test "a client with the wrong token exits 5 naming the 401" {
	CULVERT_TOKEN_FILE=$BATS_FILE_TMPDIR/wrong run_culvert --tunnel "$SERVE_URL" \
	    127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 5
	assert_one_culvert_line
	assert_stderr_has '401 Unauthorized'
	assert_stderr_has 'wrong token'
	CULVERT_TOKEN_FILE='' run_culvert --tunnel "$SERVE_URL" --tunnel-transport http \
	    127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 5
	assert_stderr_has 'no X-Culvert-Auth'
}

## culvert serve as a CONNECT proxy ########################################

@test "culvert through culvert serve's CONNECT fetches 1 MiB intact" {
	run_culvert -p "$PLAIN_URL" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 0
	assert_equal "$(file_sha "$OUT")" "$(gen_sha 1M)"
	wait_log PLAIN "CONNECT 127\.0\.0\.1:$SRC_PORT closed after [0-9.]+ s: 0 bytes up, 1048576 down \(done\)"
}

@test "culvert serve's CONNECT keeps a half-closed tunnel open (-N)" {
	gen 1M >"$BATS_TEST_TMPDIR/up"
	run_culvert -N -p "$PLAIN_URL" 127.0.0.1 "$HALF_PORT" <"$BATS_TEST_TMPDIR/up"
	assert_equal "$status" 0
	check_duplex "$OUT" 1M 1M
}

@test "curl --proxytunnel through culvert serve fetches 1 MiB intact" {
	run timeout 30 curl -sS --proxytunnel --proxy "$PLAIN_URL" \
	    -o "$BATS_TEST_TMPDIR/got" "http://127.0.0.1:$WEB_PORT/file"
	assert_equal "$status" 0
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 1M)"
	# a plain proxy request is not served
	run timeout 30 curl -sS -o /dev/null -w '%{http_code}' --proxy "$PLAIN_URL" \
	    "http://127.0.0.1:$WEB_PORT/file"
	assert_output 404
}

@test "ssh through culvert serve's CONNECT runs a command moving 4 MiB each way" {
	ssh_both_ways "$CULVERT -p $PLAIN_URL %h %p" $((4 << 20))
	wait_log PLAIN "CONNECT 127\.0\.0\.1:$SSHD_PORT closed after "
}

## log lines ###############################################################

@test "the log has one line per session opened and one closed, with bytes, time and why" {
	local t id
	for t in stream http; do
		head -c 12345 /dev/urandom >"$BATS_TEST_TMPDIR/up"
		run_culvert -N --tunnel "$SERVE_URL" --tunnel-transport "$t" \
		    127.0.0.1 "$ECHO_PORT" <"$BATS_TEST_TMPDIR/up"
		assert_equal "$status" 0
		cmp "$BATS_TEST_TMPDIR/up" "$OUT"
		id=$(session_of "$SERVE_LOG" "$ECHO_PORT")
		[[ $id =~ ^[0-9a-f]{8}$ ]] || fail "no session in $(cat "$SERVE_LOG")"
		wait_log SERVE "session $id closed after [0-9]+\.[0-9] s: 12345 bytes up, 12345 down \((done|closed by the client)\)$"
		run grep -cE "session $id (opened|closed) " "$SERVE_LOG"
		assert_output 2
		grep -Eq "session $id opened by 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.1:$ECHO_PORT$" \
		    "$SERVE_LOG"
	done
}

# hup_session TRANSPORT [OPTION...]: a --tunnel client to the echo target,
# sent SIGHUP once the server has logged its session, must die of it, and
# the server must end the session as closed by the client.
hup_session() {
	local t=$1 pid id w st in=$BATS_TEST_TMPDIR/in before
	shift
	[[ -p $in ]] || mkfifo "$in"
	before=$(session_of "$SERVE_LOG" "$ECHO_PORT")
	timeout 30 "$CULVERT" --tunnel "$SERVE_URL" --tunnel-transport "$t" \
	    "$@" 127.0.0.1 "$ECHO_PORT" <"$in" >/dev/null 2>&1 3>&- &
	pid=$!
	exec {w}>"$in"
	wait_for "[[ \$(session_of '$SERVE_LOG' '$ECHO_PORT') != '$before' ]]" 10
	id=$(session_of "$SERVE_LOG" "$ECHO_PORT")
	kill -HUP "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" $((128 + 1))
	exec {w}>&-
	wait_log SERVE "session $id closed after .*\(closed by the client\)$" 5
}

@test "a client ended by SIGHUP (as ssh ends it) ends its session on the server" {
	hup_session stream
	hup_session http
}

@test "a client ended by SIGHUP before the answer to its open came still ends the session" {
	start_chaos SLOW --hold 1
	# the proxy holds the answer, with the session's id, for a second
	hup_session http -p "http://127.0.0.1:$SLOW_PORT"
}

@test "culvert serve stops on SIGTERM and its log has no sanitizer report" {
	local s pid_var log_var
	for s in SERVE PLAIN; do
		pid_var=${s}_PID log_var=${s}_LOG
		kill -TERM "${!pid_var}"
		wait_for "process_gone ${!pid_var}" 10 || fail "$s did not stop"
		wait_log "$s" 'stopping: [0-9]+ connections, [0-9]+ sessions'
		run grep -E 'Sanitizer|runtime error' "${!log_var}"
		assert_output ""
	done
}
