#!/usr/bin/env bats
# Reaching the first proxy through a command (--proxy-command), and
# https:// proxies (culvert runs openssl s_client itself): against a real
# TLS front end (socat with a throwaway certificate) to tinyproxy, and
# through ssh -W to a throwaway sshd.  The command's failures are
# reported, and no child outlives the tunnel.

# stderr and stderr_lines come from bats' run or run_culvert.
# shellcheck disable=SC2154

load test_helper/common
load test_helper/servers

setup_file() {
	begin_setup_file
	start_sshd
	start_tinyproxy "$SSHD_PORT"
	start_tls_front "$TINYPROXY_PORT"
	start_proxy HALF halfclose
	start_proxy FORBIDDEN forbidden
	start_proxy KEEP403 forbiddenkeep
	start_target SRC source 256K
	start_target HOLD hold
	end_setup_file
}

setup() {
	require_culvert
	clean_env
}

# The openssl command a user would write to reach the TLS front end.
tls_command() {
	echo "openssl s_client -quiet -verify_quiet -verify_return_error" \
	    "-CAfile $TLSFRONT_CERT -verify_hostname localhost" \
	    "-servername localhost -connect 127.0.0.1:$TLSFRONT_PORT"
}

# bridge ARGS...: the test's stdio bridge as a proxy command.
bridge() {
	echo "$PYTHON $HELPERS/stdiobridge.py $*"
}

# last_line: the last line of $stderr (openssl's own lines come first).
last_line() {
	printf '%s\n' "${stderr_lines[-1]}"
}

@test "ssh runs through a proxy command that speaks TLS to the proxy (openssl s_client)" {
	sshd_command_runs "$CULVERT --proxy-command '$(tls_command)' -p http://localhost:$TLSFRONT_PORT %h %p"
}

@test "ssh moves 2 MB each way intact through a TLS proxy command" {
	sshd_round_trip "$CULVERT --proxy-command '$(tls_command)' -p http://localhost:$TLSFRONT_PORT %h %p" 2000000
}

@test "ssh runs through an https:// proxy trusted with --proxy-cacert" {
	sshd_command_runs "$CULVERT --proxy-cacert $TLSFRONT_CERT -p https://localhost:$TLSFRONT_PORT %h %p"
}

@test "ssh moves 2 MB each way intact through an https:// proxy" {
	sshd_round_trip "$CULVERT --proxy-cacert $TLSFRONT_CERT -p https://localhost:$TLSFRONT_PORT %h %p" 2000000
}

@test "an https:// proxy with a certificate nobody vouches for fails closed with exit 3" {
	run_culvert -p "https://localhost:$TLSFRONT_PORT" 127.0.0.1 "$SSHD_PORT" </dev/null
	assert_equal "$status" 3
	assert_equal "$OUT_SIZE" 0
	assert_regex "$(last_line)" "^culvert: cannot reach proxy https://localhost:$TLSFRONT_PORT: openssl exited with status 1: .*--proxy-cacert FILE"
}

@test "an https:// proxy reached by a name its certificate does not hold fails closed" {
	# The certificate is for "localhost", not for the address.
	run_culvert --proxy-cacert "$TLSFRONT_CERT" \
	    -p "https://127.0.0.1:$TLSFRONT_PORT" 127.0.0.1 "$SSHD_PORT" </dev/null
	assert_equal "$status" 3
	assert_equal "$OUT_SIZE" 0
	assert_regex "$(last_line)" "^culvert: cannot reach proxy https://127\.0\.0\.1:$TLSFRONT_PORT: openssl exited with status 1: .*certificate"
}

@test "an unreadable --proxy-cacert file is a usage error, exit 2" {
	run_culvert --proxy-cacert "$BATS_TEST_TMPDIR/nonexistent.pem" \
	    -p "https://localhost:$TLSFRONT_PORT" 127.0.0.1 "$SSHD_PORT" </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_regex "$stderr" "cannot read --proxy-cacert .*nonexistent\.pem: No such file"
}

@test "an https:// proxy that is down is unreachable, exit 3" {
	local port
	port=$(free_port)
	run_culvert --proxy-cacert "$TLSFRONT_CERT" -p "https://localhost:$port" \
	    127.0.0.1 "$SSHD_PORT" </dev/null
	assert_equal "$status" 3
	assert_regex "$(last_line)" "^culvert: cannot reach proxy https://localhost:$port: openssl exited"
}

@test "an https:// proxy without openssl installed says to install it or use --proxy-command" {
	local empty="$BATS_TEST_TMPDIR/empty"
	mkdir "$empty"
	run --separate-stderr timeout 10 env PATH="$empty" "$CULVERT" \
	    -p "https://localhost:$TLSFRONT_PORT" 127.0.0.1 "$SSHD_PORT" </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_regex "$stderr" "openssl.*install it.*--proxy-command"
}

@test "ssh runs through a proxy command that is ssh -W through a throwaway sshd" {
	sshd_command_runs "$CULVERT --proxy-command '$SSHD_SSH -W 127.0.0.1:$TINYPROXY_PORT root@127.0.0.1' -p http://127.0.0.1:$TINYPROXY_PORT %h %p"
}

@test "a proxy command that dies at once is reported with its status and last words, exit 3" {
	run_culvert --proxy-command "$(bridge --die "'jumphost: No route to host'")" \
	    -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 3
	assert_equal "$OUT_SIZE" 0
	assert_equal "${stderr_lines[0]}" "jumphost: No route to host"
	assert_equal "$(last_line)" "culvert: cannot reach proxy http://127.0.0.1:$HALF_PORT: the proxy command exited with status 3: jumphost: No route to host"
}

@test "a proxy command that does not exist is reported with status 127, exit 3" {
	run_culvert --proxy-command "culvert-no-such-command --flag" \
	    -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 3
	assert_regex "$(last_line)" "^culvert: cannot reach proxy .*: the proxy command exited with status 127: .*culvert-no-such-command"
}

@test "the target never goes into the proxy command: %h and %p stay as written" {
	local argv="$BATS_TEST_TMPDIR/argv"
	run_culvert --proxy-command "$PYTHON -c 'import sys; open(sys.argv[1], \"w\").write(\" \".join(sys.argv[2:]))' $argv %h %p" \
	    -p "http://127.0.0.1:$HALF_PORT" target.example 22 </dev/null
	assert_equal "$(cat "$argv")" "%h %p"
}

@test "after the tunnel ends the proxy command is gone: stopped and reaped" {
	local pf="$BATS_TEST_TMPDIR/pid" pid
	run_culvert --proxy-command "$(bridge --pidfile "$pf" 127.0.0.1 "$HALF_PORT")" \
	    -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 0
	assert_equal "$(file_sha "$OUT")" "$(gen_sha 256K)"
	pid=$(<"$pf")
	# culvert reaped it before exiting: not even a zombie is left.
	[[ ! -e /proc/$pid ]] || fail "the proxy command $pid is still there: $(cat "/proc/$pid/stat")"
}

@test "a proxy command that ignores SIGTERM is killed when the tunnel fails" {
	local pf="$BATS_TEST_TMPDIR/pid" pid start
	start=$(now)
	# A 403 on a connection the proxy keeps open: the bridge would stay.
	run_culvert --proxy-command "$(bridge --pidfile "$pf" --ignore-term 127.0.0.1 "$KEEP403_PORT")" \
	    -p "http://127.0.0.1:$KEEP403_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 4
	assert_elapsed_between "$start" 0.9 6	# 1 s of grace, then SIGKILL
	pid=$(<"$pf")
	[[ ! -e /proc/$pid ]] || fail "the proxy command $pid is still there"
}

@test "when the handshake fails the proxy command is stopped and reaped too" {
	local pf="$BATS_TEST_TMPDIR/pid" pid
	run_culvert --proxy-command "$(bridge --pidfile "$pf" 127.0.0.1 "$FORBIDDEN_PORT")" \
	    -p "http://127.0.0.1:$FORBIDDEN_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 4
	assert_regex "$(last_line)" "403 Forbidden"
	pid=$(<"$pf")
	[[ ! -e /proc/$pid ]] || fail "the proxy command $pid is still there"
}

@test "a hangup to culvert ends the proxy command too" {
	local pf="$BATS_TEST_TMPDIR/pid" err="$BATS_TEST_TMPDIR/err"
	local fifo="$BATS_TEST_TMPDIR/in" w cpid pid
	mkfifo "$fifo"
	exec {w}<>"$fifo"
	"$CULVERT" -v --proxy-command "$(bridge --pidfile "$pf" 127.0.0.1 "$HALF_PORT")" \
	    -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$HOLD_PORT" \
	    <"$fifo" >/dev/null 2>"$err" 3>&- &
	cpid=$!
	echo "$cpid" >>"$BATS_TEST_TMPDIR/helper.pids"
	wait_for "grep -q 'is up' '$err'" 10 || fail "no tunnel: $(cat "$err")"
	pid=$(<"$pf")
	kill -HUP "$cpid"
	wait_for "process_gone $cpid" 5 || fail "culvert did not end on SIGHUP"
	wait_for "process_gone $pid" 5 || fail "the proxy command $pid outlived culvert"
	exec {w}>&-
}

@test "--fdpass with --proxy-command exits 2 before anything is started" {
	local pf="$BATS_TEST_TMPDIR/pid"
	run_culvert --fdpass --proxy-command "$(bridge --pidfile "$pf" 127.0.0.1 "$HALF_PORT")" \
	    -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_regex "$stderr" "--fdpass.*--proxy-command"
	[[ ! -e $pf ]] || fail "the proxy command was started"
}

@test "--proxy-command with an https:// proxy or with several proxies exits 2" {
	run_culvert --proxy-command "$(bridge 127.0.0.1 "$HALF_PORT")" \
	    -p "https://localhost:$TLSFRONT_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_regex "$stderr" "https://"
	run_culvert --proxy-command "$(bridge 127.0.0.1 "$HALF_PORT")" \
	    -p "http://127.0.0.1:$HALF_PORT|http://127.0.0.1:$FORBIDDEN_PORT" \
	    127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 2
	assert_one_culvert_line
	assert_regex "$stderr" "reaches one proxy"
}
