#!/usr/bin/env bats
# Chains of proxies (-p given more than once, or commas in CULVERT_PROXY):
# real ssh through real tinyproxy then squid, and through squid then
# dante; scripted proxies for the rest (a 3-hop chain, refusals and
# deadlines at hop 2, -v).

# stderr, stderr_lines and lines come from bats' run or run_culvert.
# shellcheck disable=SC2154

load test_helper/common
load test_helper/servers

setup_file() {
	begin_setup_file
	start_sshd
	start_danted
	# squid reaches sshd and dante; tinyproxy reaches squid only.
	start_squid "$SSHD_PORT" "$DANTED_PORT"
	start_tinyproxy "$SQUID_PORT"
	start_proxy HALF1 halfclose
	start_proxy HALF2 halfclose
	start_proxy FORBIDDEN forbidden
	start_proxy SILENT silent
	start_proxy AUTH407 authrequired
	start_proxy SLOW slow
	start_helper SOCKS fakesocks.py
	start_target ECHO echo
	end_setup_file
}

setup() {
	require_culvert
	clean_env
}

# pc URL...: culvert as a ProxyCommand through the chain of URLs.
pc() {
	local u cmd="$CULVERT"
	for u in "$@"; do
		cmd+=" -p $u"
	done
	echo "$cmd %h %p"
}

@test "ssh through tinyproxy then squid runs a command" {
	sshd_command_runs "$(pc "http://127.0.0.1:$TINYPROXY_PORT" \
	    "http://127.0.0.1:$SQUID_PORT")"
}

@test "ssh through tinyproxy then squid moves 2 MB each way intact" {
	sshd_round_trip "$(pc "http://127.0.0.1:$TINYPROXY_PORT" \
	    "http://127.0.0.1:$SQUID_PORT")" 2000000
}

@test "ssh through squid then dante (socks5h) runs a command" {
	sshd_command_runs "$(pc "http://127.0.0.1:$SQUID_PORT" \
	    "socks5h://127.0.0.1:$DANTED_PORT")"
}

@test "ssh through squid then dante (socks5h) moves 2 MB each way intact" {
	sshd_round_trip "$(pc "http://127.0.0.1:$SQUID_PORT" \
	    "socks5h://127.0.0.1:$DANTED_PORT")" 2000000
}

@test "a chain in CULVERT_PROXY, hops separated by commas, carries ssh" {
	CULVERT_PROXY="http://127.0.0.1:$TINYPROXY_PORT,http://127.0.0.1:$SQUID_PORT" \
	    sshd_command_runs "$CULVERT %h %p"
}

@test "a 3-hop chain http, socks5h, http of scripted proxies carries 1 MB both ways" {
	local data="$BATS_TEST_TMPDIR/data"
	gen 1M >"$data"
	run_culvert -N -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "socks5h://localhost:$SOCKS_PORT" \
	    -p "http://127.0.0.1:$HALF2_PORT" 127.0.0.1 "$ECHO_PORT" <"$data"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$data" "$OUT"
	# Each hop asked for the next one, the last for the target.
	assert_equal "$(head -n 1 "$HALF1_LOG" | tr -d '\r')" \
	    "CONNECT localhost:$SOCKS_PORT HTTP/1.1"
	assert_equal "$(head -n 1 "$HALF2_LOG" | tr -d '\r')" \
	    "CONNECT 127.0.0.1:$ECHO_PORT HTTP/1.1"
}

@test "a socks5 hop resolves the next hop's name here (-4: IPv4) and sends the address" {
	run_culvert -N -4 -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "socks5://127.0.0.1:$SOCKS_PORT" \
	    -p "http://localhost:$HALF2_PORT" 127.0.0.1 "$ECHO_PORT" \
	    < <(printf 'via an address')
	assert_equal "$status" 0
	assert_equal "$output" "via an address"
}

@test "-v names the hop of every line of a chain" {
	run_culvert -N -v -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "socks5h://127.0.0.1:$SOCKS_PORT" 127.0.0.1 "$ECHO_PORT" \
	    < <(printf x)
	assert_equal "$status" 0
	assert_regex "$stderr" "culvert: using proxy http://127\.0\.0\.1:$HALF1_PORT -> socks5h://127\.0\.0\.1:$SOCKS_PORT \(from --proxy\)"
	assert_regex "$stderr" "culvert: hop 1: connecting to proxy 127\.0\.0\.1:$HALF1_PORT"
	assert_regex "$stderr" "culvert: hop 1: proxy answered: HTTP/1\.1 200"
	assert_regex "$stderr" "culvert: hop 2: sending socks5h handshake to socks5h://127\.0\.0\.1:$SOCKS_PORT"
}

@test "-vv shows a SOCKS hop's request and its grant" {
	run_culvert -N -vv -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "socks5h://127.0.0.1:$SOCKS_PORT" 127.0.0.1 "$ECHO_PORT" \
	    < <(printf x)
	assert_equal "$status" 0
	assert_regex "$stderr" "culvert: hop 2: > SOCKS5 CONNECT 127\.0\.0\.1:$ECHO_PORT"
	assert_regex "$stderr" "culvert: hop 2: < request granted"
}

@test "a refusing hop 2 gives the hop-numbered message and exit 4" {
	run_culvert -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "http://127.0.0.1:$FORBIDDEN_PORT" 127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 4
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: hop 2 \(http://127\.0\.0\.1:$FORBIDDEN_PORT\): proxy refused CONNECT 127\.0\.0\.1:$ECHO_PORT: HTTP/1\.1 403 Forbidden"
}

@test "real squid refusing hop 2's port names hop 2 and exits 4" {
	# squid allows only sshd's and dante's ports.
	run_culvert -p "http://127.0.0.1:$TINYPROXY_PORT" \
	    -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 22 </dev/null
	assert_equal "$status" 4
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: hop 2 \(http://127\.0\.0\.1:$SQUID_PORT\): proxy refused CONNECT 127\.0\.0\.1:22: HTTP/1\.1 403"
	assert_regex "$stderr" "ssh\.github\.com:443"
}

@test "a hop that will not reach the next proxy is named, with its own hint" {
	# tinyproxy allows only squid's port, not dante's.
	run_culvert -p "http://127.0.0.1:$TINYPROXY_PORT" \
	    -p "socks5h://127.0.0.1:$DANTED_PORT" 127.0.0.1 "$SSHD_PORT" </dev/null
	assert_equal "$status" 4
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: hop 1 \(http://127\.0\.0\.1:$TINYPROXY_PORT\): proxy refused CONNECT 127\.0\.0\.1:$DANTED_PORT: HTTP/1\.1 403"
	assert_regex "$stderr" "next proxy of the chain"
	refute_regex "$stderr" "github"
}

@test "a 407 at hop 2 names hop 2 and exits 5" {
	run_culvert -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "http://127.0.0.1:$AUTH407_PORT" 127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 5
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: hop 2 \(http://127\.0\.0\.1:$AUTH407_PORT\): .*407"
}

@test "hop 2's credentials come from its own URL" {
	run_culvert -N -vv -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "socks5h://alice:s3cret@127.0.0.1:$SOCKS_PORT" \
	    127.0.0.1 "$ECHO_PORT" < <(printf x)
	assert_equal "$status" 0
	assert_regex "$stderr" "proxy user alice for socks5h://127\.0\.0\.1:$SOCKS_PORT \(from the proxy URL\)"
	assert_regex "$stderr" "hop 2: > SOCKS5 CONNECT 127\.0\.0\.1:$ECHO_PORT, user alice and a password"
	refute_regex "$stderr" "s3cret"
}

@test "one deadline covers the whole chain: a silent hop 2 ends it with exit 6" {
	local start
	start=$(now)
	run_culvert -t 1 -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "http://127.0.0.1:$SILENT_PORT" 127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 6
	assert_elapsed_between "$start" 0.9 4
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: hop 2 \(http://127\.0\.0\.1:$SILENT_PORT\): timed out"
}

@test "a socks5 hop that cannot resolve the target here suggests socks5h" {
	run_culvert -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "socks5://127.0.0.1:$SOCKS_PORT" nonexistent.invalid 22 </dev/null
	assert_equal "$status" 3
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: hop 2 .*cannot resolve target nonexistent\.invalid.*socks5h://"
}

@test "eight hops are allowed, a ninth is refused before anything is sent" {
	local -a args=()
	local i
	for ((i = 0; i < 8; i++)); do
		args+=(-p "http://127.0.0.1:$HALF1_PORT")
	done
	run_culvert -N "${args[@]}" 127.0.0.1 "$ECHO_PORT" < <(printf 'eight')
	assert_equal "$status" 0
	assert_equal "$output" eight
	run_culvert "${args[@]}" -p "http://127.0.0.1:$HALF1_PORT" 127.0.0.1 \
	    "$ECHO_PORT" </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	run_culvert -p "$(printf 'http://127.0.0.1:1,%.0s' 1 2 3 4 5 6 7 8 9)http://127.0.0.1:1" \
	    127.0.0.1 22 </dev/null
	assert_equal "$status" 2
	assert_regex "$stderr" "more than 8 proxies"
}

@test "https_proxy holds one URL: a comma there is no chain, and the error says where chains go" {
	https_proxy="http://127.0.0.1:$HALF1_PORT,http://127.0.0.1:$HALF2_PORT" \
	    run_culvert 127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_regex "$stderr" "https_proxy.*CULVERT_PROXY or --proxy"
}

@test "stdin waits in the pipe while the chain is set up, then reaches the target" {
	# slow answers after 0.5 s: stdin must not be read before that.
	run_culvert -N -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "http://127.0.0.1:$SLOW_PORT" 127.0.0.1 "$ECHO_PORT" \
	    < <(printf 'early bytes')
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$output" "early bytes"
}
