#!/usr/bin/env bats
# --fdpass: real ssh with ProxyUseFdpass yes runs culvert, which does the
# proxy handshake, passes the connected socket to ssh over its stdout (a
# Unix socket ssh made) and exits, so no process stays in the data path.
# Through real tinyproxy and real microsocks to a throwaway sshd
# (tests/test_helper/servers.bash); a fake proxy counts connections for
# the refusals.

load test_helper/common
load test_helper/servers

SIZE=5000000

setup_file() {
	begin_setup_file
	start_proxy FP halfclose
	end_setup_file
	start_sshd
	start_tinyproxy "$SSHD_PORT"
	start_microsocks
}

setup() {
	require_culvert
	clean_env
	SSH_EXTRA_OPTS=(-o ProxyUseFdpass=yes)
}

# fdpass_via URL: culvert --fdpass through the proxy URL as ProxyCommand.
fdpass_via() {
	echo "$CULVERT --fdpass -p $1 %h %p"
}

# culvert_pids_with WORD: pids of live culvert processes (this binary) whose
# command line contains WORD.
culvert_pids_with() {
	local f pid cmd
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		cmd=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
		[[ $cmd == "$CULVERT "*"$1"* ]] || continue
		process_gone "$pid" || echo "$pid"
	done
}

# assert_refused_fdpass: culvert --fdpass with stdout not a Unix socket
# exited 2 with one clear line, and the fake proxy saw no connection since
# $before was taken.
assert_refused_fdpass() {
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_regex "$stderr" '--fdpass'
	assert_regex "$stderr" '[Uu]nix socket'
	assert_equal "$(($(proxy_connections FP) - before))" 0
}

@test "ssh with ProxyUseFdpass and culvert --fdpass through tinyproxy runs a command" {
	sshd_command_runs "$(fdpass_via "http://127.0.0.1:$TINYPROXY_PORT")"
}

@test "ssh with ProxyUseFdpass through tinyproxy moves 5 MB each way intact" {
	sshd_round_trip "$(fdpass_via "http://127.0.0.1:$TINYPROXY_PORT")" "$SIZE"
}

@test "culvert --fdpass exits right after passing the socket, while ssh runs on" {
	local wrapper="$BATS_TEST_TMPDIR/culvert-wrapper"
	local pidfile="$BATS_TEST_TMPDIR/culvert.pid"
	local fifo="$BATS_TEST_TMPDIR/stdin.fifo"
	local out="$BATS_TEST_TMPDIR/ssh.out" err="$BATS_TEST_TMPDIR/ssh.err"
	local ssh_pid cpid w rc=0
	# The wrapper records its pid and becomes culvert (exec keeps the pid).
	cat >"$wrapper" <<-EOF
		#!/bin/sh
		echo \$\$ >'$pidfile'
		exec '$CULVERT' "\$@"
	EOF
	chmod 0755 "$wrapper"
	mkfifo "$fifo"
	# The remote command waits for stdin's end: the session stays up until
	# this test closes the fifo.
	timeout 60 "$SSHD_SSH" -o ProxyUseFdpass=yes \
	    -o ProxyCommand="$wrapper --fdpass -p http://127.0.0.1:$TINYPROXY_PORT %h %p" \
	    root@127.0.0.1 'cat >/dev/null; echo session-done' \
	    <"$fifo" >"$out" 2>"$err" 3>&- &
	ssh_pid=$!
	# teardown stops it if the test fails half-way.
	echo "$ssh_pid" >>"$BATS_TEST_TMPDIR/helper.pids"
	exec {w}>"$fifo"
	wait_for "[[ -s '$pidfile' ]]" 20 ||
	    fail "ssh never started the ProxyCommand: $(cat "$err")"
	cpid=$(<"$pidfile")
	if ! wait_for "process_gone $cpid" 20; then
		exec {w}>&-
		fail "culvert (pid $cpid) still runs during the session"
	fi
	# The session is still alive without culvert: bytes reach the remote.
	kill -0 "$ssh_pid" 2>/dev/null ||
	    fail "ssh ended before its session did: $(cat "$err")"
	printf 'some input\n' >&"$w"
	exec {w}>&-
	wait "$ssh_pid" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat "$out")" session-done
	assert_equal "$(cat "$err")" ""
	assert_equal "$(culvert_pids_with "$TINYPROXY_PORT")" ""
}

@test "after an fdpass session no culvert process remains" {
	sshd_command_runs "$(fdpass_via "http://127.0.0.1:$TINYPROXY_PORT")"
	assert_equal "$(culvert_pids_with "--fdpass -p http://127.0.0.1:$TINYPROXY_PORT")" ""
}

@test "--fdpass with stdout a pipe exits 2 and never contacts the proxy" {
	local before rc
	before=$(proxy_connections FP)
	timeout 10 "$CULVERT" --fdpass -p "http://127.0.0.1:$FP_PORT" \
	    127.0.0.1 "$SSHD_PORT" </dev/null 2>"$BATS_TEST_TMPDIR/err" |
	    cat >"$BATS_TEST_TMPDIR/out"
	rc=${PIPESTATUS[0]}
	status=$rc
	stderr=$(<"$BATS_TEST_TMPDIR/err")
	mapfile -t stderr_lines <"$BATS_TEST_TMPDIR/err"
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/out")" 0
	assert_refused_fdpass
}

@test "--fdpass with stdout a regular file exits 2 and never contacts the proxy" {
	local before
	before=$(proxy_connections FP)
	run_culvert --fdpass -p "http://127.0.0.1:$FP_PORT" 127.0.0.1 "$SSHD_PORT" \
	    </dev/null
	assert_equal "$OUT_SIZE" 0
	assert_refused_fdpass
}

@test "--fdpass with stdout a TCP socket exits 2 and never contacts the proxy" {
	local before fd
	start_target SINK sink
	before=$(proxy_connections FP)
	exec {fd}<>"/dev/tcp/127.0.0.1/$SINK_PORT"
	status=0
	timeout 10 "$CULVERT" --fdpass -p "http://127.0.0.1:$FP_PORT" \
	    127.0.0.1 "$SSHD_PORT" </dev/null >&"$fd" \
	    2>"$BATS_TEST_TMPDIR/err" || status=$?
	exec {fd}>&-
	stderr=$(<"$BATS_TEST_TMPDIR/err")
	mapfile -t stderr_lines <"$BATS_TEST_TMPDIR/err"
	assert_refused_fdpass
}

@test "ssh with ProxyUseFdpass and culvert --fdpass through microsocks (socks5h) runs a command" {
	sshd_command_runs "$(fdpass_via "socks5h://127.0.0.1:$MICROSOCKS_PORT")"
}

@test "ssh with ProxyUseFdpass through microsocks moves 5 MB each way intact" {
	sshd_round_trip "$(fdpass_via "socks5h://127.0.0.1:$MICROSOCKS_PORT")" "$SIZE"
}
