#!/usr/bin/env bats
# The CONNECT exchange: what culvert sends, and every response shape a
# proxy can give (tests/helpers/fakeproxy.py --list).

# stderr and stderr_lines come from bats' run or run_culvert.
# shellcheck disable=SC2154,SC2016

load test_helper/common

SIZE=1000

setup_file() {
	begin_setup_file
	start_target SRC source "$SIZE"
	SRC_EXPECTED="$BATS_FILE_TMPDIR/src.expected"
	gen "$SIZE" >"$SRC_EXPECTED"
	export SRC_EXPECTED
	end_setup_file
}

setup() {
	require_culvert
}

# through SCRIPT [culvert options...]: start a fake proxy running SCRIPT
# and run culvert through it to the source target, stdin at EOF.
through() {
	local script=$1
	shift
	start_proxy PROXY "$script"
	# Timed from here: starting the fake proxy is not culvert's time.
	THROUGH_START=$(now)
	run_culvert -p "http://127.0.0.1:$PROXY_PORT" "$@" 127.0.0.1 "$SRC_PORT" \
	    </dev/null
}

# The tunnel worked: exit 0, the target's bytes exactly on stdout, nothing
# on stderr.
assert_tunnel_ok() {
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$SRC_EXPECTED" "$OUT"
}

# The handshake failed with CODE: nothing on stdout, one message.
assert_failed_with() {
	assert_equal "$status" "$1"
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
}

culvert_version() {
	"$CULVERT" --version | head -n 1 | awk '{ print $2 }'
}

@test "a 200 from an HTTP/1.1 proxy opens the tunnel" {
	through ok
	assert_tunnel_ok
}

@test "a 200 from an HTTP/1.0 proxy opens the tunnel" {
	through http10
	assert_tunnel_ok
}

@test "a 200 without a reason phrase opens the tunnel" {
	through noreason
	assert_tunnel_ok
}

@test "an HTTP/1.0 200 without a reason phrase opens the tunnel" {
	through noreason10
	assert_tunnel_ok
}

@test "a response head with bare LF line ends opens the tunnel" {
	through barelf
	assert_tunnel_ok
}

@test "a 200 with 6 KiB of headers opens the tunnel" {
	through bigheaders
	assert_tunnel_ok
}

@test "a head of 100 lines opens the tunnel" {
	through lines100
	assert_tunnel_ok
}

@test "a head of 60 KB opens the tunnel" {
	through head60k
	assert_tunnel_ok
}

@test "Content-Length and Transfer-Encoding on a 200 are ignored" {
	through contentlength
	assert_tunnel_ok
}

@test "a response head that arrives one byte at a time opens the tunnel" {
	through bytewise
	assert_tunnel_ok
}

@test "tunnel bytes that arrive with the head reach stdout intact" {
	through withdata
	{
		"$PYTHON" -c 'import sys
sys.stdout.buffer.write(bytes(range(256)) * 2 +
    b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\x00")'
		cat "$SRC_EXPECTED"
	} >"$BATS_TEST_TMPDIR/expected"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BATS_TEST_TMPDIR/expected" "$OUT"
}

@test "a 201 counts as success" {
	through created
	assert_tunnel_ok
}

@test "a four-digit status like HTTP/1.1 2000 is a protocol error" {
	through status2000
	assert_failed_with 7
}

@test "a two-digit status is a protocol error" {
	through status20
	assert_failed_with 7
}

@test "an HTTP/2 status line is a protocol error" {
	through http2
	assert_failed_with 7
}

@test "a reply that is not HTTP is a protocol error" {
	through garbage
	assert_failed_with 7
}

@test "a proxy that closes without answering is a protocol error" {
	through empty
	assert_failed_with 7
}

@test "a proxy that closes in the middle of the status line is a protocol error" {
	through midstatus
	assert_failed_with 7
}

@test "a proxy that closes in the middle of the head is a protocol error" {
	through midhead
	assert_failed_with 7
}

@test "1 MiB of headers without an end fails promptly as a protocol error" {
	local start
	start=$(now)
	through endless -t 30
	assert_failed_with 7
	assert_elapsed_between "$start" 0 5
}

@test "one endless header line fails promptly as a protocol error" {
	local start
	start=$(now)
	through endlessline -t 30
	assert_failed_with 7
	assert_elapsed_between "$start" 0 5
}

@test "a silent proxy with --timeout 2 gives up after about 2 seconds" {
	through silent --timeout 2
	assert_failed_with 6
	assert_elapsed_between "$THROUGH_START" 1.8 5
}

@test "--timeout bounds the whole handshake, not each read" {
	through trickle --timeout 1
	assert_failed_with 6
	assert_elapsed_between "$THROUGH_START" 0.8 3
}

@test "a fractional --timeout 0.5 is honoured" {
	through silent -t 0.5
	assert_failed_with 6
	assert_elapsed_between "$THROUGH_START" 0.4 2
}

@test "--timeout 0 means no deadline" {
	start_proxy PROXY silent
	CULVERT_TIMEOUT=3 run_culvert -t 0 \
	    -p "http://127.0.0.1:$PROXY_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	# Still waiting when timeout(1) ends it.
	assert_equal "$status" 124
	assert_equal "$output" ""
}

@test "403 from the proxy exits 4 and names the status line and target" {
	through forbidden
	assert_failed_with 4
	assert_regex "$stderr" "^culvert: proxy refused CONNECT 127\\.0\\.0\\.1:$SRC_PORT: HTTP/1\\.1 403 Forbidden"
	assert_regex "$stderr" " \\(.+\\)$"
}

@test "403 from a proxy that keeps the connection open exits 4 at once" {
	local start
	start=$(now)
	through forbiddenkeep -t 30
	assert_failed_with 4
	assert_regex "$stderr" "HTTP/1\\.1 403 Forbidden"
	assert_elapsed_between "$start" 0 5
}

@test "407 from the proxy exits 5 and names the status line" {
	through authrequired
	assert_failed_with 5
	assert_regex "$stderr" "HTTP/1\\.1 407 Proxy Authentication Required"
	assert_regex "$stderr" "\\(.+\\)$"
	assert_regex "$stderr" "127\\.0\\.0\\.1:$SRC_PORT"
}

@test "502 from the proxy exits 4 and names the status line and target" {
	through badgateway
	assert_failed_with 4
	assert_regex "$stderr" "HTTP/1\\.1 502 Bad Gateway"
	assert_regex "$stderr" "\\(.+\\)$"
	assert_regex "$stderr" "127\\.0\\.0\\.1:$SRC_PORT"
}

@test "503 from the proxy exits 4 and names the status line and target" {
	through unavailable
	assert_failed_with 4
	assert_regex "$stderr" "HTTP/1\\.1 503 Service Unavailable"
	assert_regex "$stderr" "\\(.+\\)$"
	assert_regex "$stderr" "127\\.0\\.0\\.1:$SRC_PORT"
}

@test "the HTML body of a refusal never reaches stdout" {
	through forbidden
	assert_equal "$status" 4
	assert_equal "$OUT_SIZE" 0
}

@test "-q still reports a refusal" {
	through forbidden -q
	assert_failed_with 4
	assert_regex "$stderr" "403"
}

@test "culvert sends exactly CONNECT, Host and User-Agent with CRLF" {
	through ok
	assert_equal "$status" 0
	printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: culvert/%s\r\n\r\n' \
	    "$SRC_PORT" "$SRC_PORT" "$(culvert_version)" \
	    >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$PROXY_LOG"
}

@test "every -H header is sent once, verbatim, after User-Agent" {
	through ok -H 'X-One: 1' -H 'X-Two:  two  words ' \
	    --header 'Via: 1.1 laptop'
	assert_equal "$status" 0
	printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: culvert/%s\r\nX-One: 1\r\nX-Two:  two  words \r\nVia: 1.1 laptop\r\n\r\n' \
	    "$SRC_PORT" "$SRC_PORT" "$(culvert_version)" \
	    >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$PROXY_LOG"
}

@test "an IPv6 literal target is bracketed in the request line and Host" {
	require_ipv6_loopback
	start_target SRC6 --host ::1 source "$SIZE"
	start_proxy PROXY ok
	run_culvert \
	    -p "http://127.0.0.1:$PROXY_PORT" ::1 "$SRC6_PORT" </dev/null
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	printf 'CONNECT [::1]:%s HTTP/1.1\r\nHost: [::1]:%s\r\nUser-Agent: culvert/%s\r\n\r\n' \
	    "$SRC6_PORT" "$SRC6_PORT" "$(culvert_version)" \
	    >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$PROXY_LOG"
}

@test "a host name is sent to the proxy as given, not resolved locally" {
	start_proxy PROXY ok
	run_culvert \
	    -p "http://127.0.0.1:$PROXY_PORT" no-such-host.invalid 443 \
	    </dev/null
	# The fake proxy cannot resolve it either and answers 502.
	assert_failed_with 4
	assert_regex "$stderr" "no-such-host\\.invalid:443"
	grep -q $'^CONNECT no-such-host.invalid:443 HTTP/1.1\r$' "$PROXY_LOG"
	grep -q $'^Host: no-such-host.invalid:443\r$' "$PROXY_LOG"
}

@test "stdin is not read before the proxy's 200 arrives" {
	start_proxy PROXY slow
	start_target ECHO echo
	run_culvert -N \
	    -p "http://127.0.0.1:$PROXY_PORT" 127.0.0.1 "$ECHO_PORT" \
	    < <(printf 'early bytes')
	assert_equal "$status" 0
	assert_equal "$output" "early bytes"
	printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: culvert/%s\r\n\r\n' \
	    "$ECHO_PORT" "$ECHO_PORT" "$(culvert_version)" \
	    >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$PROXY_LOG"
}

@test "a proxy URL without a scheme means http" {
	start_proxy PROXY ok
	run_culvert -p "127.0.0.1:$PROXY_PORT" \
	    127.0.0.1 "$SRC_PORT" </dev/null
	assert_tunnel_ok
}

@test "a proxy at an IPv6 address in brackets is reached" {
	require_ipv6_loopback
	start_proxy PROXY ok --host ::1
	run_culvert -p "http://[::1]:$PROXY_PORT" \
	    127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$SRC_EXPECTED" "$OUT"
}

@test "a proxy URL without a port means port 1080, as in curl" {
	# Port 1080 may be taken on this machine: the test makes a network
	# namespace of its own, where it is free.
	local d=$BATS_TEST_TMPDIR
	run --separate-stderr timeout 30 unshare -n bash -c '
		ip link set lo up || exit 90
		"$0" "$1/fakeproxy.py" --port 1080 --port-file "$2/p" \
		    --script ok 3>&- &
		"$0" "$1/target.py" --port-file "$2/t" source 1000 3>&- &
		for i in $(seq 500); do
			[ -s "$2/p" ] && [ -s "$2/t" ] && break
			sleep 0.01
		done
		"$3" -p http://127.0.0.1 127.0.0.1 "$(cat "$2/t")" </dev/null |
		    wc -c
		rc=${PIPESTATUS[0]}
		kill %1 %2
		exit "$rc"' "$PYTHON" "$HELPERS" "$d" "$CULVERT"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$output" 1000
}

@test "a proxy that is down exits 3 within a second and names its address" {
	local port start
	port=$(free_port)
	start=$(now)
	run_culvert -p "http://127.0.0.1:$port" \
	    127.0.0.1 "$SRC_PORT" </dev/null
	assert_failed_with 3
	assert_elapsed_between "$start" 0 1
	assert_regex "$stderr" "127\\.0\\.0\\.1"
	assert_regex "$stderr" "$port"
}

@test "-6 cannot reach a proxy given as an IPv4 address and exits 3" {
	start_proxy PROXY ok
	run_culvert -6 \
	    -p "http://127.0.0.1:$PROXY_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_failed_with 3
	assert_equal "$(proxy_connections PROXY)" 0
}

@test "-4 cannot reach a proxy given as an IPv6 address and exits 3" {
	require_ipv6_loopback
	start_proxy PROXY ok --host ::1
	run_culvert -4 \
	    -p "http://[::1]:$PROXY_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_failed_with 3
	assert_equal "$(proxy_connections PROXY ::1)" 0
}

@test "-4 reaches a proxy given as an IPv4 address" {
	through ok -4
	assert_tunnel_ok
}

@test "-v logs steps on stderr and leaves stdout to the tunnel" {
	through ok -v
	assert_equal "$status" 0
	cmp "$SRC_EXPECTED" "$OUT"
	assert_all_culvert_lines
	assert_regex "$stderr" "culvert: connecting to proxy 127\\.0\\.0\\.1:$PROXY_PORT"
	refute_regex "$stderr" "culvert: > CONNECT"
}

@test "-vv also shows the request and response heads on stderr" {
	through ok -vv
	assert_equal "$status" 0
	cmp "$SRC_EXPECTED" "$OUT"
	assert_all_culvert_lines
	assert_regex "$stderr" "culvert: > CONNECT 127\\.0\\.0\\.1:$SRC_PORT HTTP/1\\.1"
	assert_regex "$stderr" "culvert: > Host: 127\\.0\\.0\\.1:$SRC_PORT"
	assert_regex "$stderr" "culvert: < HTTP/1\\.1 200 Connection established"
	refute_regex "$stderr" $'\r'
}

@test "-v -v is the same as -vv" {
	through ok -v -v
	assert_equal "$status" 0
	assert_regex "$stderr" "culvert: < HTTP/1\\.1 200"
}

@test "a successful tunnel prints nothing on stderr without -v" {
	through ok
	assert_equal "$status" 0
	assert_equal "$stderr" ""
}
