#!/usr/bin/env bats
# Listen mode: -L forwards and the -D front end, through real tinyproxy
# and squid, with real ssh and curl as clients; robustness, loopback
# defaults and --allow-from.

# output, lines and status come from bats' run.
# shellcheck disable=SC2154

load test_helper/common
load test_helper/servers
load test_helper/listen

setup_file() {
	begin_setup_file
	start_target ECHO echo
	start_target SRC source 1M
	start_target BIG source 10M
	start_target SINK sink 8M
	start_target WEB http 2M
	start_target HOLD hold
	end_setup_file
	start_sshd
	local ports=("$ECHO_PORT" "$SRC_PORT" "$BIG_PORT" "$SINK_PORT"
	    "$WEB_PORT" "$SSHD_PORT" "$HOLD_PORT")
	start_tinyproxy "${ports[@]}"
	start_squid "${ports[@]}"
	start_squid --name SQUIDAUTH --basic alice 's3cret pass' -- "${ports[@]}"
}

setup() {
	require_culvert
	read -r LPORT DPORT XPORT <<<"$(listen_ports 3 | tr '\n' ' ')"
}

@test "-L carries 10 MB from the target through tinyproxy intact" {
	start_listen L -L "127.0.0.1:$LPORT" -p "http://127.0.0.1:$TINYPROXY_PORT" \
	    127.0.0.1 "$BIG_PORT"
	tcp 127.0.0.1 "$LPORT" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 10M)"
	wait_log L 'closed after .*: 0 bytes up, 10485760 down \(done\)'
}

@test "-L carries 8 MB to the target through squid intact" {
	start_listen L -L "$LPORT" -p "http://127.0.0.1:$SQUID_PORT" \
	    127.0.0.1 "$SINK_PORT"
	gen 8M >"$BATS_TEST_TMPDIR/up"
	run tcp --send "$BATS_TEST_TMPDIR/up" 127.0.0.1 "$LPORT"
	assert_equal "$status" 0
	assert_equal "$output" "$(gen_sha 8M) $((8 << 20))"
}

@test "ssh runs a command and moves 4 MB each way through a -L forward and squid" {
	start_listen L -L "$LPORT" -p "http://127.0.0.1:$SQUID_PORT" \
	    127.0.0.1 "$SSHD_PORT"
	run --separate-stderr timeout 60 "$SSHD_SSH" -p "$LPORT" root@127.0.0.1 \
	    'echo hello'
	assert_equal "$status" 0
	assert_equal "$output" hello
	head -c 4M /dev/urandom >"$BATS_TEST_TMPDIR/up"
	timeout 60 "$SSHD_SSH" -p "$LPORT" root@127.0.0.1 \
	    "cat > '$BATS_TEST_TMPDIR/arrived'" <"$BATS_TEST_TMPDIR/up"
	cmp "$BATS_TEST_TMPDIR/up" "$BATS_TEST_TMPDIR/arrived"
	timeout 60 "$SSHD_SSH" -p "$LPORT" root@127.0.0.1 \
	    "cat '$BATS_TEST_TMPDIR/up'" </dev/null >"$BATS_TEST_TMPDIR/down"
	cmp "$BATS_TEST_TMPDIR/up" "$BATS_TEST_TMPDIR/down"
}

@test "curl --socks5-hostname through -D and tinyproxy fetches 2 MB intact" {
	start_listen D -D "$DPORT" -p "http://127.0.0.1:$TINYPROXY_PORT"
	run timeout 30 curl -sS --socks5-hostname "127.0.0.1:$DPORT" \
	    -o "$BATS_TEST_TMPDIR/got" "http://127.0.0.1:$WEB_PORT/file"
	assert_equal "$status" 0
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 2M)"
	wait_log D '\(SOCKS5\) to 127\.0\.0\.1:'
}

@test "curl --proxytunnel through -D (HTTP CONNECT) and squid fetches 2 MB intact" {
	start_listen D -D "$DPORT" -p "http://127.0.0.1:$SQUID_PORT"
	run timeout 30 curl -sS --proxytunnel --proxy "http://127.0.0.1:$DPORT" \
	    -o "$BATS_TEST_TMPDIR/got" "http://127.0.0.1:$WEB_PORT/file"
	assert_equal "$status" 0
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 2M)"
	wait_log D '\(HTTP\) to 127\.0\.0\.1:'
}

@test "curl --socks4a through -D fetches 2 MB intact" {
	start_listen D -D "$DPORT" -p "http://127.0.0.1:$SQUID_PORT"
	run timeout 30 curl -sS --socks4a "127.0.0.1:$DPORT" \
	    -o "$BATS_TEST_TMPDIR/got" "http://127.0.0.1:$WEB_PORT/file"
	assert_equal "$status" 0
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 2M)"
}

@test "200 connections at once through -L and squid each get 256 KiB intact" {
	start_target SRC256 source 256K
	start_squid --name SQUID200 "$SRC256_PORT"
	start_listen L -L "$LPORT" -p "http://127.0.0.1:$SQUID200_PORT" \
	    127.0.0.1 "$SRC256_PORT"
	run timeout 120 "$PYTHON" "$HELPERS/manyclients.py" --hold 1 200 \
	    127.0.0.1 "$LPORT" $((256 << 10))
	assert_equal "$status" 0
	assert_equal "$output" "ok 200"
}

@test "squid wants Basic upstream while local clients give nothing" {
	CULVERT_PROXY_PASSWORD='s3cret pass' start_listen L -L "$LPORT" \
	    -U alice -p "http://127.0.0.1:$SQUIDAUTH_PORT" 127.0.0.1 "$SRC_PORT"
	tcp 127.0.0.1 "$LPORT" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 1M)"
	run grep -c 's3cret' "$L_LOG"
	assert_equal "$output" 0
}

@test "a wrong upstream password: the forward's client is closed, the log says why" {
	CULVERT_PROXY_PASSWORD=wrong start_listen L -L "$LPORT" \
	    -U alice -p "http://127.0.0.1:$SQUIDAUTH_PORT" 127.0.0.1 "$SRC_PORT"
	run tcp 127.0.0.1 "$LPORT"
	assert_equal "$output" ""
	wait_log L 'closed after .*proxy refused the credentials of user alice'
	run grep -c wrong "$L_LOG"
	assert_equal "$output" 0
}

## Answers in the client's protocol ########################################

@test "a refused CONNECT reaches a SOCKS5 client as reply 2, and the listener goes on" {
	start_listen D -D "$DPORT" -p "http://127.0.0.1:$SQUID_PORT"
	# squid allows only the targets' ports: port 1 gets 403.
	run tcp --socks5 127.0.0.1:1 127.0.0.1 "$DPORT"
	assert_equal "$status" 5
	assert_equal "$stderr" ""
	run --separate-stderr tcp --socks5 127.0.0.1:1 127.0.0.1 "$DPORT"
	assert_equal "$stderr" "socks5 reply 2"
	tcp --socks5 "127.0.0.1:$SRC_PORT" 127.0.0.1 "$DPORT" \
	    >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 1M)"
}

@test "a refused CONNECT reaches an HTTP client as 502 with the proxy's status line" {
	start_listen D -D "$DPORT" -p "http://127.0.0.1:$SQUID_PORT"
	run tcp --data $'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n' \
	    127.0.0.1 "$DPORT"
	assert_line --index 0 --partial 'HTTP/1.1 502 Bad Gateway'
	assert_output --partial '403 Forbidden'
}

@test "an upstream that does not answer in time gives an HTTP client 504" {
	start_proxy SILENT silent
	start_listen D -D "$DPORT" -t 1 -p "http://127.0.0.1:$SILENT_PORT"
	run tcp --data $'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n' \
	    127.0.0.1 "$DPORT"
	assert_line --index 0 --partial 'HTTP/1.1 504 Gateway Timeout'
}

@test "a plain GET to -D gets 501 saying only CONNECT is served" {
	start_listen D -D "$DPORT" -p "http://127.0.0.1:$SQUID_PORT"
	run tcp --data $'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n' \
	    127.0.0.1 "$DPORT"
	assert_line --index 0 --partial 'HTTP/1.1 501 Not Implemented'
	assert_output --partial 'CONNECT only'
}

@test "garbage, a silent client and a reset leave -D serving others" {
	start_listen D -D "$DPORT" -t 2 -p "http://127.0.0.1:$SQUID_PORT"
	exec {silent}<>"/dev/tcp/127.0.0.1/$DPORT"
	run tcp --data $'\x16\x03\x01garbage' 127.0.0.1 "$DPORT"
	assert_equal "$output" ""
	"$PYTHON" -c 'import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$DPORT"
	tcp --socks5 "127.0.0.1:$SRC_PORT" 127.0.0.1 "$DPORT" \
	    >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 1M)"
	wait_log D 'refused: not a SOCKS or HTTP request'
	wait_log D 'no request within 2000 ms' 10
	exec {silent}>&-
	kill -0 "$D_PID"
}

## Loopback by default, --allow-from #######################################

@test "-L and -D listen on 127.0.0.1 only by default" {
	start_listen L -L "$LPORT" -D "$DPORT" -p "http://127.0.0.1:$SQUID_PORT" \
	    127.0.0.1 "$SRC_PORT"
	assert_equal "$(listening_on "$LPORT")" "127.0.0.1:$LPORT"
	assert_equal "$(listening_on "$DPORT")" "127.0.0.1:$DPORT"
}

@test "binding all addresses warns; --allow-from refuses a client outside it" {
	start_listen L -L "0.0.0.0:$LPORT" --allow-from 127.0.0.1/32 \
	    -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SRC_PORT"
	assert_equal "$(listening_on "$LPORT")" "0.0.0.0:$LPORT"
	grep -q 'warning: forward 0\.0\.0\.0:.* is reachable from other machines' \
	    "$L_LOG"
	run tcp --from 127.0.0.2 127.0.0.1 "$LPORT"
	assert_equal "$output" ""
	wait_log L 'refused a connection from 127\.0\.0\.2:[0-9]+: not in --allow-from'
	tcp --from 127.0.0.1 127.0.0.1 "$LPORT" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(file_sha "$BATS_TEST_TMPDIR/got")" "$(gen_sha 1M)"
}

@test "without --allow-from a listener on all addresses still serves loopback only" {
	start_listen L -D "0.0.0.0:$DPORT" -p "http://127.0.0.1:$SQUID_PORT"
	grep -q 'clients are limited to loopback' "$L_LOG"
	run tcp --socks5 "127.0.0.1:$SRC_PORT" --from 127.0.0.2 127.0.0.1 "$DPORT"
	assert_equal "$status" 0
}

## Lifetime ################################################################

@test "SIGTERM stops listening and lets an open tunnel finish" {
	start_listen L -L "$LPORT" -p "http://127.0.0.1:$SQUID_PORT" \
	    127.0.0.1 "$ECHO_PORT"
	exec {conn}<>"/dev/tcp/127.0.0.1/$LPORT"
	wait_log L 'tunnel is up|\[1\] 127'
	kill -TERM "$L_PID"
	wait_log L 'stopping: no new connections; 1 open'
	run tcp 127.0.0.1 "$LPORT"
	assert_equal "$status" 3
	printf 'still here\n' >&"$conn"
	read -r -t 5 reply <&"$conn"
	assert_equal "$reply" "still here"
	exec {conn}>&-
	wait_for "process_gone $L_PID" 10
}

@test "a port in use is reported and the other listeners run" {
	start_target TAKEN echo
	start_listen L -L "$TAKEN_PORT" -L "$LPORT" \
	    -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SRC_PORT" || true
	# -L on a port in use fails at start: nothing half-running.
	run timeout 10 "$CULVERT" -L "$TAKEN_PORT" -L "$XPORT" \
	    -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SRC_PORT"
	assert_equal "$status" 2
	assert_output --partial "cannot listen on forward 127.0.0.1:$TAKEN_PORT"
	assert_output --partial 'Address already in use'
}

@test "--syslog sends the log to syslog (daemon facility), nothing to stderr" {
	[[ $(id -u) == 0 ]] || skip "needs root to give the test a private /dev/log"
	local d=$BATS_TEST_TMPDIR
	# A private mount namespace with a /dev of its own, where a datagram
	# socket at /dev/log stands in for syslogd.
	cat >"$d/run.sh" <<-EOF2
		set -e
		mount --make-rprivate /
		mkdir "$d/dev"
		mount --rbind /dev "$d/dev"
		mount -t tmpfs tmpfs /dev
		for n in null zero urandom random; do
			touch /dev/\$n
			mount --bind "$d/dev/\$n" /dev/\$n
		done
		"$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1], "w").close()
s.settimeout(10)
while True:
    try:
        line = s.recv(4096).decode(errors="replace")
    except socket.timeout:
        break
    print(line, flush=True)
    if "stopping" in line:
        break
' "$d/ready" >"$d/syslog" &
		while [ ! -e "$d/ready" ]; do sleep 0.02; done
		timeout -s TERM 2 "$CULVERT" -L "$LPORT" --syslog \
		    -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SRC_PORT" \
		    2>"$d/stderr" || [ \$? = 124 ]
		wait
	EOF2
	run timeout 30 unshare -m sh "$d/run.sh"
	assert_success
	assert_equal "$(cat "$d/stderr")" ""
	grep -q "^<29>.*culvert\[[0-9]*\]: listening: forward 127\.0\.0\.1:$LPORT" \
	    "$d/syslog"
	grep -q '^<29>.*culvert\[[0-9]*\]: stopping' "$d/syslog"
}
