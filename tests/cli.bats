#!/usr/bin/env bats
# Command-line errors: every one exits 2 with one "culvert: " line on
# stderr, nothing on stdout, and no connection to the proxy.

# stderr and stderr_lines come from bats' run or run_culvert.
# shellcheck disable=SC2154,SC2016

load test_helper/common

setup_file() {
	begin_setup_file
	start_proxy PROXY ok
	start_target TARGET source 10
	end_setup_file
}

setup() {
	require_culvert
	BEFORE=$(proxy_connections PROXY)
}

# culvert_usage_error ARGS...: run culvert with a working proxy configured
# (unless ARGS give their own -p) and expect a clean usage error.
expect_usage_error() {
	run --separate-stderr timeout 10 "$CULVERT" "$@" </dev/null
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_one_culvert_line
	assert_equal "$(proxy_connections PROXY)" "$BEFORE"
}

proxy_url() {
	printf 'http://127.0.0.1:%s\n' "$PROXY_PORT"
}

@test "with no arguments culvert explains its usage and exits 2" {
	expect_usage_error
}

@test "with only a host culvert asks for the port and exits 2" {
	expect_usage_error -p "$(proxy_url)" example.com
}

@test "a third operand is refused" {
	expect_usage_error -p "$(proxy_url)" example.com 22 extra
}

@test "port 0 is refused and named in the message" {
	expect_usage_error -p "$(proxy_url)" example.com 0
	assert_regex "$stderr" "(^|[^0-9])0([^0-9]|$)"
}

@test "port 65536 is refused and named in the message" {
	expect_usage_error -p "$(proxy_url)" example.com 65536
	assert_regex "$stderr" "65536"
}

@test "a port with trailing letters like 22x is refused" {
	expect_usage_error -p "$(proxy_url)" example.com 22x
	assert_regex "$stderr" "22x"
}

@test "a hexadecimal port like 0x16 is refused" {
	expect_usage_error -p "$(proxy_url)" example.com 0x16
	assert_regex "$stderr" "0x16"
}

@test "an empty port is refused" {
	expect_usage_error -p "$(proxy_url)" example.com ""
}

@test "a port with a leading space is refused" {
	expect_usage_error -p "$(proxy_url)" example.com " 22"
}

@test "a port too large for any integer is refused" {
	expect_usage_error -p "$(proxy_url)" example.com 99999999999999999999999
}

@test "an empty host is refused" {
	expect_usage_error -p "$(proxy_url)" "" 22
}

@test "a host with a space is refused" {
	expect_usage_error -p "$(proxy_url)" "evil host" 22
}

@test "a host with a carriage return is refused" {
	expect_usage_error -p "$(proxy_url)" $'example.com\rX-Evil: 1' 22
}

@test "a host with a line feed is refused" {
	expect_usage_error -p "$(proxy_url)" $'example.com\nX-Evil: 1' 22
}

@test "a host with a tab is refused" {
	expect_usage_error -p "$(proxy_url)" $'example\t.com' 22
}

@test "a host with a control byte is refused" {
	expect_usage_error -p "$(proxy_url)" $'example\x01.com' 22
}

@test "a host with the DEL byte is refused" {
	expect_usage_error -p "$(proxy_url)" $'example\x7f.com' 22
}

@test "a host with an escape byte is refused" {
	expect_usage_error -p "$(proxy_url)" $'example\x1b[2J.com' 22
}

@test "hosts with shell metacharacters are refused" {
	local bad
	for bad in 'a;id' 'a$(id)' 'a`id`' 'a|id' 'a&id' 'a>x' 'a<x' \
	    "a'b" 'a"b' 'a\b'; do
		run --separate-stderr timeout 10 "$CULVERT" -p "$(proxy_url)" \
		    "$bad" 22 </dev/null
		[[ $status == 2 ]] || fail "host '$bad': exit $status, want 2"
		[[ -z $output ]] || fail "host '$bad': stdout: $output"
		assert_one_culvert_line
	done
	assert_equal "$(proxy_connections PROXY)" "$BEFORE"
}

@test "a host of 256 bytes is refused" {
	local host
	host=$(printf 'a%.0s' {1..256})
	expect_usage_error -p "$(proxy_url)" "$host" 22
}

@test "a host of exactly 255 bytes is sent to the proxy" {
	local label host
	label=$(printf 'a%.0s' {1..63})
	host="$label.$label.$label.$label"
	assert_equal "${#host}" 255
	run --separate-stderr timeout 10 "$CULVERT" -p "$(proxy_url)" \
	    "$host" 22 </dev/null
	# The fake proxy cannot reach it and answers 502.
	assert_equal "$status" 4
	assert_equal "$output" ""
	assert_equal "$(proxy_connections PROXY)" "$((BEFORE + 1))"
	grep -q "CONNECT $host:22 HTTP/1.1" "$PROXY_LOG"
}

@test "a header containing CR LF is refused" {
	expect_usage_error -p "$(proxy_url)" \
	    -H $'X-Ok: 1\r\nX-Evil: 2' example.com 22
}

@test "a header containing a bare line feed is refused" {
	expect_usage_error -p "$(proxy_url)" \
	    -H $'X-Ok: 1\nX-Evil: 2' example.com 22
}

@test "a header containing a carriage return is refused" {
	expect_usage_error -p "$(proxy_url)" -H $'X-Ok: 1\rX' example.com 22
}

@test "a header without a colon is refused" {
	expect_usage_error -p "$(proxy_url)" -H 'NoColonHere' example.com 22
}

@test "a header with an empty name is refused" {
	expect_usage_error -p "$(proxy_url)" -H ': value' example.com 22
}

@test "an unknown proxy scheme like socks9:// is refused as unsupported" {
	expect_usage_error -p "socks9://127.0.0.1:$PROXY_PORT" example.com 22
	assert_regex "$stderr" "socks9"
	assert_regex "$stderr" "[Uu]nsupported|[Uu]nknown"
}

@test "an https:// proxy anywhere but first in a chain is refused" {
	expect_usage_error -p "$(proxy_url)" -p "https://127.0.0.1:$PROXY_PORT" \
	    example.com 22
	assert_regex "$stderr" "https://"
}

@test "a proxy URL without a host is refused" {
	expect_usage_error -p "http://" example.com 22
}

@test "a proxy URL with a bad port is refused" {
	expect_usage_error -p "http://127.0.0.1:99999" example.com 22
	expect_usage_error -p "http://127.0.0.1:31x" example.com 22
}

@test "a proxy URL with an unclosed IPv6 bracket is refused" {
	expect_usage_error -p "http://[::1:$PROXY_PORT" example.com 22
}

@test "a timeout that is not a number is refused" {
	expect_usage_error -p "$(proxy_url)" -t abc example.com 22
	assert_regex "$stderr" "abc"
}

@test "a negative timeout is refused" {
	expect_usage_error -p "$(proxy_url)" --timeout=-1 example.com 22
}

@test "a timeout with trailing junk is refused" {
	expect_usage_error -p "$(proxy_url)" -t 2s example.com 22
}

@test "an empty timeout is refused" {
	expect_usage_error -p "$(proxy_url)" --timeout '' example.com 22
}

@test "an unknown option is refused" {
	expect_usage_error -p "$(proxy_url)" --no-such-option example.com 22
}

@test "--proxy without its argument is refused" {
	expect_usage_error example.com 22 --proxy
}

@test "with no proxy configured culvert exits 2 and suggests --proxy" {
	run --separate-stderr timeout 10 env -u CULVERT_PROXY \
	    -u https_proxy -u HTTPS_PROXY -u all_proxy -u ALL_PROXY \
	    -u http_proxy -u HTTP_PROXY "$CULVERT" example.com 22 </dev/null
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_one_culvert_line
	assert_regex "$stderr" "--proxy"
}

@test "--help prints usage on stdout and exits 0" {
	run --separate-stderr timeout 10 "$CULVERT" --help </dev/null
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_regex "$output" "HOST PORT"
	assert_regex "$output" "--proxy"
}

@test "-h is the same as --help" {
	run --separate-stderr timeout 10 "$CULVERT" --help </dev/null
	local long=$output
	run --separate-stderr timeout 10 "$CULVERT" -h </dev/null
	assert_equal "$status" 0
	assert_equal "$output" "$long"
}

@test "--version prints culvert and a version number on stdout" {
	run --separate-stderr timeout 10 "$CULVERT" --version </dev/null
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_regex "${lines[0]}" "^culvert [0-9]+\\.[0-9]+"
}

@test "-V is the same as --version" {
	run --separate-stderr timeout 10 "$CULVERT" -V </dev/null
	assert_equal "$status" 0
	assert_regex "${lines[0]}" "^culvert [0-9]+\\.[0-9]+"
}

@test "--help wins over missing operands and touches no proxy" {
	run --separate-stderr timeout 10 "$CULVERT" -p "$(proxy_url)" --help \
	    </dev/null
	assert_equal "$status" 0
	assert_equal "$(proxy_connections PROXY)" "$BEFORE"
}
