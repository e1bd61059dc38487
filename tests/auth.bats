#!/usr/bin/env bats
# Proxy authentication (issue 4): where credentials come from, Basic,
# Digest and NTLMv2 against the fake proxy's independent checks
# (fakeproxy.py --script auth: Python hashlib, a pure-Python MD4) and
# against real squid with basic_ncsa_auth, digest_file_auth and
# ntlm_fake_auth, and secrets that never leak (argv, -vv, stdout).

# stderr, stderr_lines, output and status come from run_culvert.
# shellcheck disable=SC2154,SC2016,SC2034

load test_helper/common
load test_helper/servers

SIZE=1000
# Every awkward byte the issue names, and a non-ASCII letter (UTF-8).
PW='p@ss:w rd/%é"#'
PW_URL='p%40ss%3Aw%20rd%2F%25%C3%A9%22%23'

setup_file() {
	begin_setup_file
	start_target SRC source "$SIZE"
	start_target ECHO echo
	start_target HOLD hold
	SRC_EXPECTED="$BATS_FILE_TMPDIR/src.expected"
	gen "$SIZE" >"$SRC_EXPECTED"
	BYTES="$BATS_FILE_TMPDIR/bytes.bin"
	"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' \
	    >"$BYTES"
	export SRC_EXPECTED BYTES
	end_setup_file
	start_squid --name SQBASIC --basic alice "$PW" -- "$ECHO_PORT"
	start_squid --name SQDIGEST --digest alice "$PW" -- "$ECHO_PORT"
	start_squid --name SQNTLM --ntlm -- "$ECHO_PORT"
	start_squid --name SQNTLMBASIC --ntlm --basic alice "$PW" -- "$ECHO_PORT"
}

setup() {
	require_culvert
	clean_env
}

# auth_proxy [fakeproxy options...]: a fake proxy that wants user u with
# password $PW unless the options say otherwise; sets PROXY_PORT,
# PROXY_LOG (every request head) and PROXY_ERR (its verdicts, one line
# per request: "auth: conn N: ok|bad SCHEME why").
auth_proxy() {
	start_proxy PROXY auth --user u --pass "$PW" "$@"
	PROXY_URL="http://127.0.0.1:$PROXY_PORT"
	PROXY_ERR="$BATS_TEST_TMPDIR/PROXY.err"
}

# source_through [culvert options...]: culvert through the fake proxy to
# the source target, stdin at EOF.
source_through() {
	run_culvert "$@" 127.0.0.1 "$SRC_PORT" </dev/null
}

# The source's bytes came through: exit 0, exact bytes on stdout.
assert_tunnel_ok() {
	assert_equal "$status" 0
	cmp "$SRC_EXPECTED" "$OUT"
}

# The handshake failed with exit CODE: nothing on stdout, one message.
assert_failed_with() {
	assert_equal "$status" "$1"
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
}

# requests: how many CONNECT requests the fake proxy received.
requests() {
	grep -c '^CONNECT ' "$PROXY_LOG"
}

# authz N: the Proxy-Authorization value of the Nth request ("" if none).
authz() {
	awk -v n="$1" '
		/^CONNECT / { i++ }
		i == n && tolower($0) ~ /^proxy-authorization:/ {
			sub(/^[^:]*: */, ""); sub(/\r$/, ""); print; exit
		}' "$PROXY_LOG"
}

# verdict PATTERN: the fake proxy logged a decision matching PATTERN.
assert_verdict() {
	grep -qE "$1" "$PROXY_ERR" ||
	    fail "no verdict /$1/ from the fake proxy: $(cat "$PROXY_ERR")"
}

# b64 STRING: base64 of the UTF-8 bytes, one line.
b64() {
	printf '%s' "$1" | base64 -w0
}

# echo_through_squid NAME [culvert options...]: bytes 0-255 to the echo
# target and back through the real squid NAME.
echo_through_squid() {
	local port_var="${1}_PORT"
	shift
	run_culvert -N -p "http://127.0.0.1:${!port_var}" "$@" \
	    127.0.0.1 "$ECHO_PORT" < <(feed_until "$BYTES" 256)
}

# feed_until FILE SIZE: print FILE, then hold stdin open until culvert's
# stdout file has SIZE bytes (at most 10 s), then end it.
feed_until() {
	cat "$1"
	wait_for "[[ \$(stat -c %s '$BATS_TEST_TMPDIR/culvert.out' \
	    2>/dev/null || echo 0) -ge $2 ]]" 10 || true
}

assert_echoed() {
	assert_equal "$status" 0
	cmp "$BYTES" "$OUT"
}

# connects: how many times culvert -v said it connected to the proxy.
connects() {
	grep -c 'culvert: connecting to proxy' "$ERR"
}

# start_background [culvert options...]: culvert -v through the fake proxy
# to the hold target, stdin a FIFO held open here, under timeout; waits
# until the tunnel is up.  Sets BG_PID (culvert itself), BG_TIMEOUT_PID,
# BG_ERR.
start_background() {
	local fifo="$BATS_TEST_TMPDIR/stdin.fifo"
	BG_ERR="$BATS_TEST_TMPDIR/bg.err"
	mkfifo "$fifo"
	exec {BG_FD}<>"$fifo"
	timeout 20 "$CULVERT" -v "$@" 127.0.0.1 "$HOLD_PORT" <"$fifo" \
	    >"$BATS_TEST_TMPDIR/bg.out" 2>"$BG_ERR" 3>&- &
	BG_TIMEOUT_PID=$!
	echo "$BG_TIMEOUT_PID" >>"$BATS_TEST_TMPDIR/helper.pids"
	# /proc files have size 0: read them, do not test -s.
	wait_for "[[ -n \$(cat /proc/$BG_TIMEOUT_PID/task/$BG_TIMEOUT_PID/children \
	    2>/dev/null) ]]" 10 || fail "culvert did not start under timeout"
	BG_PID=$(cat "/proc/$BG_TIMEOUT_PID/task/$BG_TIMEOUT_PID/children")
	BG_PID=${BG_PID%% *}
	wait_for "grep -q 'is up' '$BG_ERR' || process_gone $BG_PID" 10
	grep -q 'is up' "$BG_ERR" ||
	    fail "the tunnel did not come up: $(cat "$BG_ERR")"
}

# bg_cmdline: culvert's /proc/PID/cmdline, NULs shown as spaces.
bg_cmdline() {
	tr '\0' ' ' <"/proc/$BG_PID/cmdline"
}

stop_background() {
	kill "$BG_TIMEOUT_PID" 2>/dev/null || true
	wait_for "process_gone $BG_PID && process_gone $BG_TIMEOUT_PID" 5 ||
	    fail "culvert did not stop"
	exec {BG_FD}>&-
}

# run_detached [culvert options...]: like run_culvert, but in a new
# session (no controlling terminal) with stdin from /dev/null.
run_detached() {
	OUT="$BATS_TEST_TMPDIR/culvert.out"
	ERR="$BATS_TEST_TMPDIR/culvert.err"
	status=0
	timeout 10 setsid -w "$CULVERT" "$@" </dev/null >"$OUT" 2>"$ERR" ||
	    status=$?
	stderr=$(<"$ERR")
	mapfile -t stderr_lines <"$ERR"
	OUT_SIZE=$(wc -c <"$OUT")
}

## the fake proxy's own checks ###############################################

@test "the fake proxy's MD4, Digest and NTLMv2 checks match RFC 1320, RFC 7616 and MS-NLMP 4.2.4" {
	run "$PYTHON" "$HELPERS/fakeproxy.py" --self-test
	assert_success
	assert_output "self-test ok"
}

## Basic and the --proxy-auth values #########################################

@test "with credentials the first CONNECT already carries Basic and one connection suffices" {
	auth_proxy --offer basic
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$stderr" ""
	assert_equal "$(requests)" 1
	assert_equal "$(authz 1)" "Basic $(b64 "u:$PW")"
	assert_equal "$(proxy_connections PROXY)" 1
	assert_verdict '^auth: conn 1: ok basic'
}

@test "--proxy-auth basic also sends Basic with the first CONNECT" {
	auth_proxy --offer basic
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through --proxy-auth basic -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$(requests)" 1
	assert_equal "$(authz 1)" "Basic $(b64 "u:$PW")"
}

@test "--proxy-auth digest sends no Basic and answers the 407 with Digest" {
	auth_proxy --offer basic,digest-md5
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through --proxy-auth digest -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$(requests)" 2
	assert_equal "$(authz 1)" ""
	assert_regex "$(authz 2)" '^Digest '
	run grep -ci 'Basic' "$PROXY_LOG"
	assert_output 0
}

@test "--proxy-auth ntlm opens with an NTLM negotiate message" {
	auth_proxy --offer ntlm,basic
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through --proxy-auth ntlm -p "$PROXY_URL"
	assert_tunnel_ok
	# base64 of "NTLMSSP\0" and type 1
	assert_regex "$(authz 1)" '^NTLM TlRMTVNTUAABAAAA'
	assert_equal "$(proxy_connections PROXY)" 1
	assert_verdict '^auth: conn 1: ok ntlm type-3'
}

@test "a Basic-only proxy with --proxy-auth digest exits 5 saying which schemes it offers" {
	auth_proxy --offer basic
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through --proxy-auth digest -p "$PROXY_URL"
	assert_failed_with 5
	assert_regex "$stderr" 'Basic'
	assert_regex "$stderr" '--proxy-auth'
	assert_equal "$(requests)" 1
}

@test "Basic credentials the proxy refuses are not sent again: exit 5 naming Basic and the realm" {
	auth_proxy --offer basic --realm 'Fake Proxy, Inc.'
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=wrong \
	    source_through -p "$PROXY_URL"
	assert_failed_with 5
	assert_regex "$stderr" 'Basic'
	assert_regex "$stderr" 'Fake Proxy, Inc\.'
	assert_equal "$(requests)" 1
	assert_verdict '^auth: conn 1: bad basic'
}

## passwords with special and non-ASCII characters ###########################

@test "a password with @ : space / % é \" # works percent-encoded in the proxy URL" {
	auth_proxy --offer basic
	source_through -p "http://u:$PW_URL@127.0.0.1:$PROXY_PORT"
	assert_tunnel_ok
	assert_equal "$(authz 1)" "Basic $(b64 "u:$PW")"
	assert_regex "$stderr" 'visible to other users'
}

@test "a password with @ : space / % é \" # works from CULVERT_PROXY_PASSWORD" {
	auth_proxy --offer basic
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$stderr" ""
	assert_equal "$(authz 1)" "Basic $(b64 "u:$PW")"
}

@test "a password with @ : space / % é \" # works from --auth-file" {
	auth_proxy --offer basic
	local file="$BATS_TEST_TMPDIR/auth"
	printf 'u:%s\n' "$PW" >"$file"
	chmod 600 "$file"
	source_through --auth-file "$file" -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$stderr" ""
	assert_equal "$(authz 1)" "Basic $(b64 "u:$PW")"
}

@test "a password with @ : space / % é \" # works with Digest SHA-256" {
	auth_proxy --offer digest-sha256
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -p "$PROXY_URL"
	assert_tunnel_ok
	assert_verdict '^auth: conn 2: ok digest SHA-256'
}

## the 407 round trip #########################################################

@test "a 407 with Connection: close makes culvert answer on a new connection" {
	auth_proxy --offer digest-md5 --on-407 close
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$(proxy_connections PROXY)" 2
	assert_equal "$(requests)" 2
	assert_verdict '^auth: conn 2: ok digest MD5'
}

@test "a 407 kept alive with an HTML body is drained and answered on the same connection" {
	auth_proxy --offer digest-md5 --on-407 keep
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -t 5 -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$(proxy_connections PROXY)" 1
	assert_equal "$(requests)" 2
	assert_verdict '^auth: conn 1: ok digest MD5'
}

@test "a wrong Digest password exits 5 within 3 requests, naming Digest and the realm" {
	auth_proxy --offer digest-md5 --on-407 keep --realm 'Fake Proxy, Inc.'
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=wrong \
	    source_through -t 5 -p "$PROXY_URL"
	assert_failed_with 5
	assert_regex "$stderr" 'Digest'
	assert_regex "$stderr" 'Fake Proxy, Inc\.'
	(($(requests) <= 3)) || fail "$(requests) requests"
	assert_verdict '^auth: conn 1: bad digest response'
}

@test "a proxy that calls every Digest answer stale gets 3 requests at most, then exit 5" {
	# Every right answer is called stale: culvert may retry, but not
	# beyond its limit of 3 attempts.
	auth_proxy --offer digest-md5 --on-407 close --stale 100
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -t 5 -p "$PROXY_URL"
	assert_failed_with 5
	assert_regex "$stderr" 'Digest'
	assert_equal "$(requests)" 3
	assert_equal "$(proxy_connections PROXY)" 3
}

## Digest #####################################################################

# digest_with OFFER ALG: culvert answers a Digest challenge for ALG, the
# fake proxy recomputes the response with hashlib and lets it through.
digest_with() {
	auth_proxy --offer "$1" --on-407 close --realm 'Fake Proxy, Inc.'
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$stderr" ""
	assert_verdict "^auth: conn 2: ok digest $2 user u\$"
	local d
	d=$(authz 2)
	assert_regex "$d" "uri=\"127\.0\.0\.1:$SRC_PORT\""
	assert_regex "$d" 'nc=0*1([^0-9a-f]|$)'
	assert_regex "$d" 'qop="?auth"?'
	assert_regex "$d" 'realm="Fake Proxy, Inc\."'
}

@test "Digest MD5 is answered correctly (checked with hashlib)" {
	digest_with digest-md5 MD5
}

@test "Digest SHA-256 is answered correctly (checked with hashlib)" {
	digest_with digest-sha256 SHA-256
}

@test "Digest MD5-sess is answered correctly (checked with hashlib)" {
	digest_with digest-md5-sess MD5-sess
}

@test "Digest SHA-256-sess is answered correctly (checked with hashlib)" {
	digest_with digest-sha256-sess SHA-256-sess
}

@test "stale=true makes culvert answer again with the new nonce" {
	auth_proxy --offer digest-sha256 --on-407 keep --stale 1
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -t 5 -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$(requests)" 3
	assert_verdict '^auth: conn 1: bad digest SHA-256 right, nonce now stale'
	assert_verdict '^auth: conn 1: ok digest SHA-256'
	local n2 n3
	n2=$(authz 2 | grep -o 'nonce="[^"]*"')
	n3=$(authz 3 | grep -o 'nonce="[^"]*"')
	[[ -n $n2 && $n2 != "$n3" ]] || fail "nonce not renewed: $n2 / $n3"
}

## choosing among several schemes ############################################

@test "of Basic, Digest MD5 and Digest SHA-256 in separate headers, SHA-256 is chosen" {
	auth_proxy --offer basic,digest-md5,digest-sha256 \
	    --accept digest-sha256 --on-407 keep
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -t 5 -p "$PROXY_URL"
	assert_tunnel_ok
	assert_verdict '^auth: conn 1: ok digest SHA-256'
}

@test "of Basic, Digest and NTLM in one header, NTLM is chosen" {
	auth_proxy --offer basic,digest-md5,digest-sha256,ntlm --joined \
	    --accept ntlm --on-407 keep
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -t 5 -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$(proxy_connections PROXY)" 1
	assert_verdict '^auth: conn 1: ok ntlm type-3'
}

@test "a proxy offering only Negotiate gets exit 5 and a message saying culvert cannot speak it" {
	auth_proxy --offer negotiate
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -p "$PROXY_URL"
	assert_failed_with 5
	assert_regex "$stderr" 'Negotiate'
	assert_regex "$stderr" 'Kerberos|does not (speak|support)'
}

## NTLMv2 #####################################################################

@test "NTLMv2 with DOMAIN\\user completes on one connection (checked against the proxy's challenge)" {
	auth_proxy --user 'CORP\alice' --offer ntlm --on-407 close
	CULVERT_PROXY_USER='CORP\alice' CULVERT_PROXY_PASSWORD=$PW \
	    source_through -t 5 -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$(proxy_connections PROXY)" 2
	assert_verdict '^auth: conn 1: bad '
	assert_verdict '^auth: conn 2: ntlm type-1 ok'
	assert_verdict '^auth: conn 2: ok ntlm type-3 user CORP\\alice'
}

@test "NTLMv2 without a domain in the user name takes the challenge's domain" {
	auth_proxy --user alice --offer ntlm --on-407 keep
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=$PW \
	    source_through -t 5 -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$(proxy_connections PROXY)" 1
	assert_verdict '^auth: conn 1: ok ntlm type-3 user Domain\\alice'
}

@test "a wrong NTLM password exits 5 naming NTLM" {
	auth_proxy --user alice --offer ntlm --on-407 keep
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=wrong \
	    source_through -t 5 -p "$PROXY_URL"
	assert_failed_with 5
	assert_regex "$stderr" 'NTLM'
	(($(requests) <= 3)) || fail "$(requests) requests"
	assert_verdict '^auth: conn 1: bad ntlm type-3 NTProofStr'
}

## -vv never shows a secret ###################################################

# assert_no_secret: the password, percent-encoded or not, and the Basic
# token are nowhere in culvert's stderr.
assert_no_secret() {
	[[ $stderr != *"$PW"* ]] || fail "password in stderr: $stderr"
	[[ $stderr != *"$PW_URL"* ]] || fail "password in stderr: $stderr"
	[[ $stderr != *"$(b64 "u:$PW")"* ]] ||
	    fail "Basic token in stderr: $stderr"
	[[ $stderr != *"$(b64 "u:$PW" | cut -c 5-20)"* ]] ||
	    fail "part of the Basic token in stderr: $stderr"
}

@test "-vv shows Proxy-Authorization: Basic <redacted> and never the password or its base64" {
	auth_proxy --offer basic
	source_through -vv -p "http://u:$PW_URL@127.0.0.1:$PROXY_PORT"
	assert_tunnel_ok
	grep -qxF 'culvert: > Proxy-Authorization: Basic <redacted>' "$ERR" ||
	    fail "no redacted Proxy-Authorization line: $stderr"
	assert_no_secret
}

@test "-vv redacts Digest and NTLM answers too" {
	auth_proxy --offer digest-sha256
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -vv --proxy-auth digest -p "$PROXY_URL"
	assert_tunnel_ok
	grep -qxF 'culvert: > Proxy-Authorization: Digest <redacted>' "$ERR" ||
	    fail "no redacted Digest line: $stderr"
	[[ $stderr != *"response="* ]] || fail "Digest response shown: $stderr"
	assert_no_secret

	common_teardown
	auth_proxy --offer ntlm --on-407 keep
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    source_through -vv -t 5 -p "$PROXY_URL"
	assert_tunnel_ok
	grep -qxF 'culvert: > Proxy-Authorization: NTLM <redacted>' "$ERR" ||
	    fail "no redacted NTLM line: $stderr"
	local type3
	type3=$(authz 3)
	[[ -n ${type3#NTLM } && $stderr != *"${type3#NTLM }"* ]] ||
	    fail "NTLM authenticate message shown (or missing): $stderr"
	assert_no_secret
}

@test "-vv with wrong credentials shows no secret and nothing on stdout" {
	auth_proxy --offer basic --pass other
	source_through -vv -p "http://u:$PW_URL@127.0.0.1:$PROXY_PORT"
	assert_equal "$status" 5
	assert_equal "$OUT_SIZE" 0
	assert_no_secret
}

## real squid #################################################################

@test "squid with basic_ncsa_auth lets the right password through and echoes bytes" {
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=$PW \
	    echo_through_squid SQBASIC
	assert_echoed
	assert_equal "$stderr" ""
}

@test "squid with basic_ncsa_auth refuses a wrong password: exit 5" {
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=wrong \
	    echo_through_squid SQBASIC
	assert_failed_with 5
	assert_regex "$stderr" 'Basic'
	assert_regex "$stderr" 'culvert-test'
}

@test "squid with digest_file_auth lets the right password through and echoes bytes" {
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=$PW \
	    echo_through_squid SQDIGEST -t 10
	assert_echoed
	assert_equal "$stderr" ""
}

@test "squid with digest_file_auth refuses a wrong password: exit 5" {
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=wrong \
	    echo_through_squid SQDIGEST -t 5
	assert_failed_with 5
	assert_regex "$stderr" 'Digest'
	assert_regex "$stderr" 'culvert-test'
}

@test "squid with ntlm_fake_auth completes NTLM on one connection and echoes bytes" {
	CULVERT_PROXY_USER='CORP\alice' CULVERT_PROXY_PASSWORD=$PW \
	    echo_through_squid SQNTLM -v -t 5
	assert_echoed
	assert_equal "$(connects)" 1
	grep -q 'answering on the same connection' "$ERR" ||
	    fail "no 407 round on the connection: $stderr"
}

@test "squid offering NTLM and Basic together lets culvert through" {
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=$PW \
	    echo_through_squid SQNTLMBASIC -t 5
	assert_echoed
	assert_equal "$stderr" ""
}

@test "squid offering NTLM and Basic together: with --proxy-auth ntlm NTLM gets through on one connection" {
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=$PW \
	    echo_through_squid SQNTLMBASIC --proxy-auth ntlm -v -t 5
	assert_echoed
	assert_equal "$(connects)" 1
}

## secrets in argv ############################################################

@test "a password from the environment never appears in /proc/PID/cmdline" {
	auth_proxy --offer basic
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    start_background -p "$PROXY_URL"
	local cmd
	cmd=$(bg_cmdline)
	assert_regex "$cmd" "127\.0\.0\.1:$PROXY_PORT"
	[[ $cmd != *"$PW"* ]] || fail "password in cmdline: $cmd"
	stop_background
	assert_verdict '^auth: conn 1: ok basic'
}

@test "a password from --auth-file never appears in /proc/PID/cmdline" {
	auth_proxy --offer basic
	local file="$BATS_TEST_TMPDIR/auth"
	printf 'u:%s\n' "$PW" >"$file"
	chmod 600 "$file"
	start_background --auth-file "$file" -p "$PROXY_URL"
	local cmd
	cmd=$(bg_cmdline)
	assert_regex "$cmd" "--auth-file $file"
	[[ $cmd != *"$PW"* ]] || fail "password in cmdline: $cmd"
	stop_background
	assert_verdict '^auth: conn 1: ok basic'
}

@test "a password in the --proxy URL is gone from /proc/PID/cmdline once culvert runs, with a warning" {
	auth_proxy --offer basic --pass secret
	start_background -p "http://u:secret@127.0.0.1:$PROXY_PORT"
	local cmd
	cmd=$(bg_cmdline)
	assert_regex "$cmd" "http://u:.*@127\.0\.0\.1:$PROXY_PORT"
	[[ $cmd != *secret* ]] || fail "password still in cmdline: $cmd"
	grep -q 'warning: .*visible to other users' "$BG_ERR" ||
	    fail "no argv warning: $(cat "$BG_ERR")"
	stop_background
	assert_verdict '^auth: conn 1: ok basic user u$'
}

@test "a percent-encoded password in the --proxy URL is gone from /proc/PID/cmdline too" {
	auth_proxy --offer basic
	start_background -p "http://u:$PW_URL@127.0.0.1:$PROXY_PORT"
	local cmd
	cmd=$(bg_cmdline)
	assert_regex "$cmd" "@127\.0\.0\.1:$PROXY_PORT"
	[[ $cmd != *"$PW_URL"* && $cmd != *"%40ss"* ]] ||
	    fail "password still in cmdline: $cmd"
	stop_background
	assert_verdict '^auth: conn 1: ok basic'
}

@test "a password given with -U u:secret is gone from /proc/PID/cmdline once culvert runs, with a warning" {
	auth_proxy --offer basic --pass secret
	start_background -U u:secret -p "$PROXY_URL"
	local cmd
	cmd=$(bg_cmdline)
	assert_regex "$cmd" "-U u"
	[[ $cmd != *secret* ]] || fail "password still in cmdline: $cmd"
	grep -q 'warning: .*visible to other users' "$BG_ERR" ||
	    fail "no argv warning: $(cat "$BG_ERR")"
	stop_background
	assert_verdict '^auth: conn 1: ok basic user u$'
}

@test "-q silences the argv warning for a password in the URL or -U" {
	auth_proxy --offer basic --pass secret
	source_through -q -p "http://u:secret@127.0.0.1:$PROXY_PORT"
	assert_tunnel_ok
	assert_equal "$stderr" ""
	source_through -q -U u:secret -p "$PROXY_URL"
	assert_tunnel_ok
	assert_equal "$stderr" ""
}

## --auth-file and prompting ##################################################

@test "an --auth-file readable by others (0644) is refused with exit 2 and a chmod 600 hint" {
	auth_proxy --offer basic
	local file="$BATS_TEST_TMPDIR/auth"
	printf 'u:%s\n' "$PW" >"$file"
	chmod 644 "$file"
	source_through --auth-file "$file" -p "$PROXY_URL"
	assert_failed_with 2
	assert_regex "$stderr" 'chmod 600'
	assert_regex "$stderr" "$file"
	assert_equal "$(proxy_connections PROXY)" 0
}

@test "an --auth-file with an empty password is a clear error, exit 2" {
	auth_proxy --offer basic
	local file="$BATS_TEST_TMPDIR/auth"
	printf 'u:\n' >"$file"
	chmod 600 "$file"
	source_through --auth-file "$file" -p "$PROXY_URL"
	assert_failed_with 2
	assert_regex "$stderr" 'empty password'
	assert_equal "$(proxy_connections PROXY)" 0
}

@test "a missing --auth-file is a clear error, exit 2" {
	auth_proxy --offer basic
	source_through --auth-file "$BATS_TEST_TMPDIR/nonexistent" \
	    -p "$PROXY_URL"
	assert_failed_with 2
	assert_regex "$stderr" "auth-file .*nonexistent"
	assert_regex "$stderr" 'No such file'
	assert_equal "$(proxy_connections PROXY)" 0
}

@test "a user without a password, terminal or askpass exits 5 saying how to give the password" {
	auth_proxy --offer basic
	run_detached -U u -p "$PROXY_URL" 127.0.0.1 "$SRC_PORT"
	assert_failed_with 5
	assert_regex "$stderr" 'CULVERT_PROXY_PASSWORD'
	assert_regex "$stderr" '--auth-file'
	assert_equal "$(proxy_connections PROXY)" 0
}

@test "SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force supplies the password" {
	auth_proxy --offer basic
	local askpass="$BATS_TEST_TMPDIR/askpass"
	cat >"$askpass" <<-EOF
		#!/bin/sh
		printf '%s\n' "\$1" >'$BATS_TEST_TMPDIR/askpass.prompt'
		printf '%s\n' '$PW'
	EOF
	chmod 755 "$askpass"
	SSH_ASKPASS=$askpass SSH_ASKPASS_REQUIRE=force \
	    run_detached -U u -p "$PROXY_URL" 127.0.0.1 "$SRC_PORT"
	assert_tunnel_ok
	assert_equal "$stderr" ""
	assert_equal "$(authz 1)" "Basic $(b64 "u:$PW")"
	grep -q "u@127.0.0.1:$PROXY_PORT" "$BATS_TEST_TMPDIR/askpass.prompt" ||
	    fail "askpass prompt: $(cat "$BATS_TEST_TMPDIR/askpass.prompt")"
}

@test "a running culvert holding credentials can never write a core file" {
	auth_proxy --offer basic
	CULVERT_PROXY_USER=u CULVERT_PROXY_PASSWORD=$PW \
	    start_background -p "$PROXY_URL"
	run grep -E '^Max core file size +0 +0 ' "/proc/$BG_PID/limits"
	stop_background
	assert_success
}
