#!/usr/bin/env bats
# Listen mode's configuration file: directives, errors with line numbers,
# reloads (file edits and SIGHUP) that never cut open connections, and
# fallback proxies that are remembered.

# output, lines and status come from bats' run.
# shellcheck disable=SC2154

load test_helper/common
load test_helper/servers
load test_helper/listen

setup_file() {
	begin_setup_file
	start_target ECHO echo
	start_target SRC source 1M
	start_target SMALL source 2000
	start_helper SOCKS fakesocks.py --script ok
	end_setup_file
	start_squid "$ECHO_PORT" "$SRC_PORT" "$SMALL_PORT"
}

setup() {
	require_culvert
	read -r P1 P2 P3 P4 <<<"$(listen_ports 4 | tr '\n' ' ')"
	CONF="$BATS_TEST_TMPDIR/culvert.conf"
	SQ="http://127.0.0.1:$SQUID_PORT"
}

# reloaded N: wait for the Nth "reloaded" line in L's log.
reloaded() {
	wait_for "[[ \$(grep -c 'reloaded $CONF' '$L_LOG') -ge $1 ]]" 10 ||
	    fail "no reload number $1: $(cat "$L_LOG")"
}

# echo_line FD TEXT: TEXT through the open connection on FD comes back.
echo_line() {
	local reply
	printf '%s\n' "$2" >&"$1"
	read -r -t 5 reply <&"$1"
	assert_equal "$reply" "$2"
}

@test "edits to the file take effect without a restart, and an open connection survives every one" {
	cat >"$CONF" <<-EOF
		# two forwards through squid
		proxy $SQ
		forward 127.0.0.1:$P1 127.0.0.1:$SRC_PORT
		forward $P2 127.0.0.1:$ECHO_PORT
	EOF
	start_listen L -c "$CONF"
	exec {conn}<>"/dev/tcp/127.0.0.1/$P2"
	echo_line "$conn" "before any change"

	# add
	printf 'forward %s 127.0.0.1:%s\n' "$P3" "$SMALL_PORT" >>"$CONF"
	reloaded 1
	tcp 127.0.0.1 "$P3" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" 2000
	echo_line "$conn" "after an add"

	# remove
	sed -i "/:$P1 /d" "$CONF"
	reloaded 2
	run tcp 127.0.0.1 "$P1"
	assert_equal "$status" 3
	echo_line "$conn" "after a removal"

	# change: the third forward now goes to the 1 MB source
	sed -i "s/127.0.0.1:$SMALL_PORT/127.0.0.1:$SRC_PORT/" "$CONF"
	reloaded 3
	tcp 127.0.0.1 "$P3" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 1M)"
	echo_line "$conn" "after a change"

	# break it: the running configuration stays
	cp "$CONF" "$CONF.good"
	printf 'frobnicate 1\n' >>"$CONF"
	wait_log L "$CONF:5: unknown directive \"frobnicate\""
	wait_log L 'kept the running configuration'
	tcp 127.0.0.1 "$P3" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" $((1 << 20))
	echo_line "$conn" "after a broken file"

	# fix it
	cp "$CONF.good" "$CONF"
	reloaded 4
	echo_line "$conn" "after the fix"
	exec {conn}>&-
	kill -0 "$L_PID"
}

@test "SIGHUP reloads the file" {
	printf 'proxy %s\nforward %s 127.0.0.1:%s\n' "$SQ" "$P1" "$SRC_PORT" \
	    >"$CONF"
	start_listen L -c "$CONF"
	kill -HUP "$L_PID"
	wait_log L 'SIGHUP: reloading'
	reloaded 1
	wait_log L "reloaded $CONF: 1 listeners \\(0 added, 0 changed, 0 removed\\)"
	tcp 127.0.0.1 "$P1" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" $((1 << 20))
}

@test "a reload that adds a port in use reports it and the rest keep running" {
	start_target TAKEN echo
	printf 'proxy %s\nforward %s 127.0.0.1:%s\n' "$SQ" "$P1" "$SRC_PORT" \
	    >"$CONF"
	start_listen L -c "$CONF"
	printf 'forward %s 127.0.0.1:%s\nforward %s 127.0.0.1:%s\n' \
	    "$TAKEN_PORT" "$SRC_PORT" "$P2" "$SMALL_PORT" >>"$CONF"
	wait_log L "cannot listen on forward 127\\.0\\.0\\.1:$TAKEN_PORT .*Address already in use"
	reloaded 1
	wait_log L 'some failed'
	tcp 127.0.0.1 "$P2" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" 2000
	tcp 127.0.0.1 "$P1" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" $((1 << 20))
}

@test "a bad file at start exits 2 with FILE:LINE and nothing on stdout" {
	printf 'proxy %s\n\nforward 22\n' "$SQ" >"$CONF"
	run --separate-stderr timeout 10 "$CULVERT" -c "$CONF"
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "culvert: $CONF:3: forward wants [BIND:]PORT HOST:PORT [via URL | direct]"
}

@test "each directive's errors name the line" {
	local bad
	for bad in "timeout soon" "allow-from example.com" "proxy ftp://x" \
	    "forward 70000 a:1" "forward 1.2.3:1 a:1" "socks 1 2" \
	    "forward 5 a:1 via" "forward 5 a;b:1"; do
		printf '# first\n%s\n' "$bad" >"$CONF"
		run --separate-stderr timeout 10 "$CULVERT" -c "$CONF"
		assert_equal "$status" 2
		[[ $stderr == "culvert: $CONF:2: "* ]] ||
		    fail "'$bad' gave: $stderr"
	done
}

@test "a proxy password in a file others can read is refused; 0600 is fine" {
	printf 'proxy http://u:secret@127.0.0.1:%s\nforward %s 127.0.0.1:%s\n' \
	    "$SQUID_PORT" "$P1" "$SRC_PORT" >"$CONF"
	chmod 0644 "$CONF"
	run --separate-stderr timeout 10 "$CULVERT" -c "$CONF"
	assert_equal "$status" 2
	assert_equal "$stderr" "culvert: $CONF:1: a proxy password in a file that others can read or that is not yours: chmod 600 $CONF, or give credentials with -U and CULVERT_PROXY_PASSWORD"
	chmod 0600 "$CONF"
	start_listen L -c "$CONF"
	run grep -c secret "$L_LOG"
	assert_equal "$output" 0
}

@test "forward lines take via URL, direct, and the no-proxy in force" {
	cat >"$CONF" <<-EOF
		proxy $SQ
		forward $P1 127.0.0.1:$SRC_PORT via socks5h://127.0.0.1:$SOCKS_PORT
		forward $P2 127.0.0.1:$SMALL_PORT direct
		no-proxy 127.0.0.1
		socks $P3
	EOF
	start_listen L -c "$CONF"
	tcp 127.0.0.1 "$P1" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 1M)"
	wait_log L "forward 127\\.0\\.0\\.1:$P1 to .* via socks5h://127\\.0\\.0\\.1:$SOCKS_PORT"
	tcp 127.0.0.1 "$P2" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" 2000
	wait_log L "forward 127\\.0\\.0\\.1:$P2 to .* directly"
	tcp --socks5 "127.0.0.1:$SMALL_PORT" 127.0.0.1 "$P3" \
	    >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/got")" 2000
	wait_log L "\\(SOCKS5\\) to 127\\.0\\.0\\.1:$SMALL_PORT directly"
}

@test "a fallback that worked is remembered, and the failed one is tried again after retry" {
	local down
	down=$(free_port)
	cat >"$CONF" <<-EOF
		retry 2
		proxy http://127.0.0.1:$down|$SQ
		forward $P1 127.0.0.1:$SMALL_PORT
	EOF
	start_listen L -v -c "$CONF"
	tcp 127.0.0.1 "$P1" >/dev/null
	wait_log L "\\[1\\] http://127\\.0\\.0\\.1:$down: Connection refused; trying $SQ"
	wait_log L "\\[1\\] hop 1: switched from http://127\\.0\\.0\\.1:$down to $SQ"
	tcp 127.0.0.1 "$P1" >/dev/null
	wait_log L '\[2\] closed'
	run grep -c "\\[2\\] connecting to proxy 127\\.0\\.0\\.1:$down" "$L_LOG"
	assert_equal "$output" 0
	# After 2 s the first proxy is worth another try.
	wait_for "(( \$(date +%s) >= $(date +%s) + 3 ))" 5
	tcp 127.0.0.1 "$P1" >/dev/null
	wait_log L "\\[3\\] connecting to proxy 127\\.0\\.0\\.1:$down"
	wait_log L '\[3\] closed'
}
