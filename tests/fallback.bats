#!/usr/bin/env bats
# Fallback proxies: a hop lists alternatives separated by '|', tried in
# order; "direct" may end the first hop's list.  An alternative that
# cannot be reached, or does not answer within its share of the deadline,
# gives way to the next; one that answers, even with a refusal, does not.

# stderr and stderr_lines come from run_culvert.
# shellcheck disable=SC2154

load test_helper/common

setup_file() {
	begin_setup_file
	start_proxy HALF1 halfclose
	start_proxy HALF2 halfclose
	start_proxy SILENT silent
	start_proxy SILENT2 silent
	start_proxy FORBIDDEN forbidden
	start_proxy BADGW badgateway
	start_target ECHO echo
	end_setup_file
}

setup() {
	require_culvert
	clean_env
	CLOSED=$(free_port)
}

@test "the first alternative's port is closed: the second carries the tunnel" {
	run_culvert -N -v -p "http://127.0.0.1:$CLOSED|http://127.0.0.1:$HALF1_PORT" \
	    127.0.0.1 "$ECHO_PORT" < <(printf 'through the second')
	assert_equal "$status" 0
	assert_equal "$output" "through the second"
	assert_regex "$stderr" "culvert: http://127\.0\.0\.1:$CLOSED: Connection refused; trying http://127\.0\.0\.1:$HALF1_PORT"
}

@test "the first alternative is silent: its share of the deadline passes and the second answers in time" {
	local start
	start=$(now)
	# Two alternatives, -t 4: the silent one has 2 s of them.
	run_culvert -N -v -t 4 \
	    -p "http://127.0.0.1:$SILENT_PORT|http://127.0.0.1:$HALF1_PORT" \
	    127.0.0.1 "$ECHO_PORT" < <(printf 'after the silent one')
	assert_equal "$status" 0
	assert_equal "$output" "after the silent one"
	assert_elapsed_between "$start" 1.8 3.9
	assert_regex "$stderr" "http://127\.0\.0\.1:$SILENT_PORT: no answer in its share of the deadline; trying http://127\.0\.0\.1:$HALF1_PORT"
}

@test "direct as the last alternative connects straight to the target" {
	run_culvert -N -v -p "http://127.0.0.1:$CLOSED|direct" \
	    127.0.0.1 "$ECHO_PORT" < <(printf 'no proxy at all')
	assert_equal "$status" 0
	assert_equal "$output" "no proxy at all"
	assert_regex "$stderr" "trying direct"
	assert_regex "$stderr" "connecting to target 127\.0\.0\.1:$ECHO_PORT"
}

@test "every alternative down exits 3 and names each with its reason" {
	run_culvert -p "http://127.0.0.1:$CLOSED|http://nonexistent.invalid:3128|socks5h://127.0.0.1:$CLOSED" \
	    127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 3
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: no proxy could be reached: http://127\.0\.0\.1:$CLOSED \(Connection refused\), http://nonexistent\.invalid:3128 \([^)]+\), socks5h://127\.0\.0\.1:$CLOSED \(Connection refused\)$"
}

@test "every alternative silent ends at the deadline with exit 6, naming those tried before" {
	local start
	start=$(now)
	run_culvert -t 2 \
	    -p "http://127.0.0.1:$SILENT_PORT|http://127.0.0.1:$SILENT2_PORT" \
	    127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 6
	assert_elapsed_between "$start" 1.8 3.9
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: http://127\.0\.0\.1:$SILENT2_PORT: timed out .*; tried before: http://127\.0\.0\.1:$SILENT_PORT \(no answer in its share of the deadline\)$"
}

@test "a proxy that answers 403 is not skipped: the next alternative is never asked" {
	run_culvert -p "http://127.0.0.1:$FORBIDDEN_PORT|http://127.0.0.1:$HALF2_PORT" \
	    127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 4
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: http://127\.0\.0\.1:$FORBIDDEN_PORT: proxy refused CONNECT .*403 Forbidden"
	assert_equal "$(proxy_connections HALF2)" 0
}

@test "a second hop's alternative that the first cannot reach gives way to the next" {
	# HALF1 cannot reach the closed port and answers 502.
	run_culvert -N -v -p "http://127.0.0.1:$HALF1_PORT" \
	    -p "http://127.0.0.1:$CLOSED|http://127.0.0.1:$HALF2_PORT" \
	    127.0.0.1 "$ECHO_PORT" < <(printf 'second of hop 2')
	assert_equal "$status" 0
	assert_equal "$output" "second of hop 2"
	assert_regex "$stderr" "hop 2: http://127\.0\.0\.1:$CLOSED: hop 1 answered 502; trying http://127\.0\.0\.1:$HALF2_PORT"
}

@test "no alternative of hop 2 reachable through hop 1 exits 3 naming hop 2's" {
	run_culvert -p "http://127.0.0.1:$BADGW_PORT" \
	    -p "http://127.0.0.1:$HALF1_PORT|http://127.0.0.1:$HALF2_PORT" \
	    127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 3
	assert_one_culvert_line
	assert_regex "$stderr" "^culvert: no proxy of hop 2 could be reached: http://127\.0\.0\.1:$HALF1_PORT \(hop 1 answered 502\), http://127\.0\.0\.1:$HALF2_PORT \(hop 1 answered 502\)$"
}

@test "alternatives work from CULVERT_PROXY too" {
	CULVERT_PROXY="http://127.0.0.1:$CLOSED|http://127.0.0.1:$HALF1_PORT" \
	    run_culvert -N 127.0.0.1 "$ECHO_PORT" < <(printf 'from the variable')
	assert_equal "$status" 0
	assert_equal "$output" "from the variable"
}

@test "direct anywhere but last of a single proxy's list is refused with exit 2" {
	run_culvert -p "direct|http://127.0.0.1:$HALF1_PORT" 127.0.0.1 22 </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	run_culvert -p "http://127.0.0.1:$HALF1_PORT" -p "http://127.0.0.1:$HALF2_PORT|direct" \
	    127.0.0.1 22 </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_regex "$stderr" "direct"
}
