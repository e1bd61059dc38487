#!/usr/bin/env bats
# culvert through the real proxies Debian ships, tinyproxy 1.11 and squid 5,
# each on a loopback port chosen at run time with its own config
# (tests/test_helper/servers.bash).  Both allow CONNECT only to the test
# targets' ports, and both close the whole tunnel as soon as the client
# half-closes (RFC 9110 9.3.6 allows it), which is why culvert keeps its
# sending side open on stdin EOF unless -N is given.

load test_helper/common
load test_helper/servers

setup_file() {
	begin_setup_file
	start_target ECHO echo
	start_target LATE late 1M 500
	# target.py --log FILE: the sink's record of what it read, since its
	# reply cannot come back through these proxies after a half-close.
	SINK_RECORD="$BATS_FILE_TMPDIR/sink.record"
	start_target SINK --log "$SINK_RECORD" sink
	export SINK_RECORD
	end_setup_file
	start_tinyproxy "$ECHO_PORT" "$LATE_PORT" "$SINK_PORT"
	start_squid "$ECHO_PORT" "$LATE_PORT" "$SINK_PORT"
	BYTES="$BATS_FILE_TMPDIR/bytes.bin"
	"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' \
	    >"$BYTES"
	LATE_EXPECTED="$BATS_FILE_TMPDIR/late.expected"
	gen 1M >"$LATE_EXPECTED"
	export BYTES LATE_EXPECTED
}

setup() {
	require_culvert
}

# proxy_url NAME: the URL of the real proxy NAME (TINYPROXY or SQUID).
proxy_url() {
	local port_var="${1}_PORT"
	printf 'http://127.0.0.1:%s\n' "${!port_var}"
}

# feed_until FILE SIZE: print FILE, then hold stdin open until culvert's
# stdout file has SIZE bytes (at most 10 s), then end it.
feed_until() {
	cat "$1"
	wait_for "[[ \$(stat -c %s '$BATS_TEST_TMPDIR/culvert.out' \
	    2>/dev/null || echo 0) -ge $2 ]]" 10 || true
}

# echo_through NAME: bytes 0-255 to the echo target and back through NAME;
# with -N, stdin ends once the echo is back, the proxy then ends the tunnel.
echo_through() {
	run_culvert -N -p "$(proxy_url "$1")" 127.0.0.1 "$ECHO_PORT" \
	    < <(feed_until "$BYTES" 256)
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BYTES" "$OUT"
}

# late_reply_through NAME: a request, stdin at EOF at once, and the target's
# 1 MiB reply half a second later must all arrive (no -N).
late_reply_through() {
	printf 'GET / HTTP/1.0\r\n\r\n' >"$BATS_TEST_TMPDIR/request"
	run_culvert -p "$(proxy_url "$1")" 127.0.0.1 "$LATE_PORT" \
	    <"$BATS_TEST_TMPDIR/request"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$OUT_SIZE" "$(stat -c %s "$LATE_EXPECTED")"
	cmp "$LATE_EXPECTED" "$OUT"
}

# upload_through NAME: with -N, 1 MiB then stdin EOF reaches a target that
# reads until EOF.  Its reply cannot come back: the proxy closes the whole
# tunnel when culvert half-closes, so the target's own record is checked.
upload_through() {
	local upload="$BATS_TEST_TMPDIR/upload" want
	gen 1M >"$upload"
	run_culvert -N -p "$(proxy_url "$1")" 127.0.0.1 "$SINK_PORT" <"$upload"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	want="$(gen_sha 1M) $((1 << 20))"
	wait_for "grep -q '$want' '$SINK_RECORD'" 10 ||
	    fail "the sink did not record '$want': $(cat "$SINK_RECORD" 2>&1)"
	: >"$SINK_RECORD"
}

# denied_port_through NAME STATUS_LINE: port 25 is not in NAME's policy.
denied_port_through() {
	run_culvert -p "$(proxy_url "$1")" 127.0.0.1 25 </dev/null
	assert_equal "$status" 4
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "proxy refused CONNECT 127\.0\.0\.1:25: $2"
}

@test "a tunnel through real tinyproxy echoes bytes 0-255 exactly" {
	echo_through TINYPROXY
}

@test "a tunnel through real squid echoes bytes 0-255 exactly" {
	echo_through SQUID
}

@test "a request piped into culvert through tinyproxy gets the whole late reply" {
	late_reply_through TINYPROXY
}

@test "a request piped into culvert through squid gets the whole late reply" {
	late_reply_through SQUID
}

@test "with -N an upload through tinyproxy reaches a target that waits for EOF" {
	upload_through TINYPROXY
}

@test "with -N an upload through squid reaches a target that waits for EOF" {
	upload_through SQUID
}

@test "a port tinyproxy's policy denies exits 4 with its 403 status line" {
	denied_port_through TINYPROXY 'HTTP/1\.1 403 Access violation'
}

@test "a port squid's policy denies exits 4 with its 403 status line" {
	denied_port_through SQUID 'HTTP/1\.1 403 Forbidden'
}
