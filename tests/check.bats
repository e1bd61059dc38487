#!/usr/bin/env bats
# culvert --check: the report of every step on stdout, the verdict line
# (all that -q prints), the suggestion for each kind of failure, and the
# exit status of a normal run.

# output, lines, stderr and status come from bats' run.
# shellcheck disable=SC2154

load test_helper/common
load test_helper/servers

setup_file() {
	begin_setup_file
	start_sshd
	# squid allows sshd's port only: anything else gets 403.
	start_squid "$SSHD_PORT"
	start_squid --name SQUIDAUTH --ntlm --basic alice pa55word "$SSHD_PORT"
	start_proxy HALF halfclose
	start_proxy SILENT silent
	start_proxy INTERCEPT intercept
	start_helper SOCKS fakesocks.py
	start_target HOLD hold
	start_target EMPTY source 0
	end_setup_file
}

setup() {
	require_culvert
	clean_env
}

# check ARGS...: culvert --check ARGS with stdin closed, stdout and
# stderr apart.
check() {
	run --separate-stderr timeout 20 "$CULVERT" --check "$@" </dev/null
}

# The verdict is the last line, and there is exactly one.
assert_verdict() {
	assert_equal "$(grep -c '^verdict: ' <<<"$output")" 1
	assert_regex "${lines[-1]}" "^verdict: $1"
}

@test "--check through squid to sshd reports each step and the SSH banner, exit 0" {
	check -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_line "checking a tunnel to 127.0.0.1:$SSHD_PORT"
	assert_line "  proxy     http://127.0.0.1:$SQUID_PORT (from --proxy)"
	assert_line "hop 1: http://127.0.0.1:$SQUID_PORT"
	assert_line --regexp "^  resolved  127\.0\.0\.1:$SQUID_PORT \([0-9]+ ms\)$"
	assert_line --regexp "^  connected 127\.0\.0\.1:$SQUID_PORT \([0-9]+ ms\)$"
	assert_line "  sent      CONNECT 127.0.0.1:$SSHD_PORT HTTP/1.1"
	assert_line "  sent      Host: 127.0.0.1:$SSHD_PORT"
	assert_line --regexp "^  received  HTTP/1\.1 200 "
	assert_line --regexp "^  status    HTTP/1\.1 200 "
	assert_line "target 127.0.0.1:$SSHD_PORT"
	assert_line --regexp "^  spoke     SSH-2\.0-OpenSSH_.* \(after [0-9]+ ms\)$"
	assert_line --partial "ServerAliveInterval"
	assert_verdict "ok: the tunnel to 127\.0\.0\.1:$SSHD_PORT is up \([0-9]+ ms\); the target says SSH-2\.0-OpenSSH_"
}

@test "--check -q prints only the verdict line" {
	check -q -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_equal "${#lines[@]}" 1
	assert_verdict "ok: "
	assert_equal "$stderr" ""
}

@test "--check never reads stdin" {
	local fifo="$BATS_TEST_TMPDIR/in" fd left
	mkfifo "$fifo"
	exec {fd}<>"$fifo"
	printf 'still here\n' >&"$fd"
	run --separate-stderr timeout 20 "$CULVERT" --check \
	    -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SSHD_PORT" <"$fifo"
	assert_equal "$status" 0
	read -r -t 5 left <&"$fd"
	exec {fd}>&-
	assert_equal "$left" "still here"
}

@test "--check of a 403 on port 22 names the step and suggests port 443, exit 4" {
	check -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 22
	assert_equal "$status" 4
	assert_line --regexp "^  status    HTTP/1\.1 403 Forbidden$"
	assert_line "failed at the proxy's answer"
	assert_line --regexp "^  suggest   many proxies allow CONNECT only to port 443; GitHub answers ssh on ssh\.github\.com port 443, GitLab on altssh\.gitlab\.com port 443$"
	assert_verdict "failed \(exit 4\) at the proxy's answer: proxy refused CONNECT 127\.0\.0\.1:22: HTTP/1\.1 403 Forbidden"
}

@test "--check -q of a failure prints the verdict alone, with the exit status" {
	check -q -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 22
	assert_equal "$status" 4
	assert_equal "${#lines[@]}" 1
	assert_verdict "failed \(exit 4\) at the proxy's answer: "
}

@test "--check of a 407 lists the schemes offered and how to give credentials, exit 5" {
	check -p "http://127.0.0.1:$SQUIDAUTH_PORT" 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 5
	assert_line --regexp "^  status    HTTP/1\.1 407 "
	assert_line --regexp "^  auth      the proxy offers .*NTLM.*Basic"
	assert_line "failed at the proxy's answer"
	assert_line --regexp "^  suggest   give credentials: .*-U USER, CULVERT_PROXY_USER and CULVERT_PROXY_PASSWORD, or --auth-file FILE$"
	assert_line --regexp "^  suggest   the proxy offers: .*NTLM.*Basic"
	assert_verdict "failed \(exit 5\) at the proxy's answer: .*407"
}

@test "--check shows credentials redacted, the scheme used, and where the user came from" {
	CULVERT_PROXY="http://alice:pa55word@127.0.0.1:$SQUIDAUTH_PORT" \
	    check 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_line "  proxy     http://127.0.0.1:$SQUIDAUTH_PORT (from CULVERT_PROXY)"
	assert_line "  user      alice for http://127.0.0.1:$SQUIDAUTH_PORT (from the proxy URL), with a password"
	assert_line "  sent      Proxy-Authorization: Basic <redacted>"
	assert_line "  auth      answering with Basic"
	refute_output --partial "pa55word"
	refute_output --partial "$(printf 'alice:pa55word' | base64)"
	assert_verdict "ok: "
}

@test "--check of a wrong password says the credentials were refused, exit 5" {
	CULVERT_PROXY_USER=alice CULVERT_PROXY_PASSWORD=wrong \
	    check --proxy-auth basic -p "http://127.0.0.1:$SQUIDAUTH_PORT" \
	    127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 5
	assert_line --regexp "^  suggest   the proxy refused the credentials sent \(Basic\): check the user name and password"
}

@test "--check of a silent proxy suggests --timeout and ConnectTimeout, exit 6" {
	check -t 1 -p "http://127.0.0.1:$SILENT_PORT" 127.0.0.1 22
	assert_equal "$status" 6
	assert_line "failed at the proxy's answer"
	assert_line --regexp "^  suggest   the proxy accepted the connection but said nothing: .*raise --timeout$"
	assert_line --regexp "^  suggest   in ssh_config, \"ConnectTimeout 30\""
	assert_verdict "failed \(exit 6\) at the proxy's answer: timed out"
}

@test "--check with the proxy down names the address and suggests checking it, exit 3" {
	local port
	port=$(free_port)
	check -p "http://127.0.0.1:$port" 127.0.0.1 22
	assert_equal "$status" 3
	assert_line "failed at connecting to the proxy"
	assert_line --regexp "^  error     cannot connect to proxy 127\.0\.0\.1:$port: Connection refused"
	assert_line "  suggest   nothing listens there: check the proxy's address and port, and that it runs"
	assert_verdict "failed \(exit 3\) at connecting to the proxy: "
}

@test "--check with a proxy name that does not resolve says to check the name, exit 3" {
	check -p "http://nonexistent.invalid:3128" 127.0.0.1 22
	assert_equal "$status" 3
	assert_line "failed at resolving the proxy's name"
	assert_line --regexp "^  suggest   check the proxy's name: it does not resolve here"
}

@test "--check behind a socks5 proxy with a name that does not resolve here suggests socks5h://, exit 3" {
	check -p "socks5://127.0.0.1:$SOCKS_PORT" nonexistent.invalid 22
	assert_equal "$status" 3
	assert_line "failed at resolving the next name here for a SOCKS proxy"
	assert_line --regexp "^  suggest   use socks5h:// \(or socks4a://\) so the proxy resolves the name"
}

@test "--check warns when the bytes after the 200 look like an HTTP answer (an intercepting proxy)" {
	check -p "http://127.0.0.1:$INTERCEPT_PORT" 127.0.0.1 22
	assert_equal "$status" 0
	assert_line --regexp "^  spoke     HTTP/1\.1 400 Bad Request \(after [0-9]+ ms\)$"
	assert_line --regexp "^  warning   the first bytes look like an HTTP response: the proxy, or a box behind it, intercepts"
	assert_verdict "warning: the tunnel to 127\.0\.0\.1:22 is up, but the proxy seems to answer in the target's place: HTTP/1\.1 400 Bad Request$"
}

@test "--check of a target that says nothing waits 2 s and says so" {
	local start
	start=$(now)
	check -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$HOLD_PORT"
	assert_equal "$status" 0
	assert_elapsed_between "$start" 1.9 8
	assert_line --regexp "^  silent    the target said nothing in 2 s"
	assert_verdict "ok: the tunnel to 127\.0\.0\.1:$HOLD_PORT is up \([0-9]+ ms\); the target did not speak first$"
}

@test "--check of a tunnel that closes at once warns, as ssh's kex_exchange_identification would" {
	check -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$EMPTY_PORT"
	assert_equal "$status" 0
	assert_line --regexp "^  closed    the tunnel closed at once without a byte"
	assert_verdict "warning: the tunnel to 127\.0\.0\.1:$EMPTY_PORT was up, but closed at once"
}

@test "--check of a chain reports each hop, the SOCKS request and the grant" {
	check -p "http://127.0.0.1:$HALF_PORT" -p "socks5h://127.0.0.1:$SOCKS_PORT" \
	    127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_line "  proxy     http://127.0.0.1:$HALF_PORT -> socks5h://127.0.0.1:$SOCKS_PORT (from --proxy)"
	assert_line "hop 1 of 2: http://127.0.0.1:$HALF_PORT"
	assert_line "hop 2 of 2: socks5h://127.0.0.1:$SOCKS_PORT"
	assert_line "  sent      SOCKS5 CONNECT 127.0.0.1:$SSHD_PORT"
	assert_line "  received  request granted"
	assert_line --regexp "^  spoke     SSH-2\.0-"
}

@test "--check of a chain failing at hop 2 names the hop, exit 4" {
	check -p "http://127.0.0.1:$HALF_PORT" -p "http://127.0.0.1:$SQUID_PORT" \
	    127.0.0.1 22
	assert_equal "$status" 4
	assert_line "failed at the proxy's answer, hop 2"
	assert_verdict "failed \(exit 4\) at the proxy's answer: hop 2 \(http://127\.0\.0\.1:$SQUID_PORT\): "
}

@test "--check shows each alternative tried and the one skipped" {
	local port
	port=$(free_port)
	check -p "http://127.0.0.1:$port|http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_line "hop 1: http://127.0.0.1:$port (alternative 1 of 2)"
	assert_line "  skipped   http://127.0.0.1:$port: Connection refused; trying http://127.0.0.1:$SQUID_PORT"
	assert_line "hop 1: http://127.0.0.1:$SQUID_PORT (alternative 2 of 2)"
	assert_verdict "ok: "
}

@test "--check names the environment variable the proxy came from" {
	https_proxy="http://127.0.0.1:$SQUID_PORT" check 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_line "  proxy     http://127.0.0.1:$SQUID_PORT (from https_proxy)"
	assert_line "  no-proxy  no list (--no-proxy, NO_PROXY, no_proxy): every target goes through the proxy"
}

@test "--check shows the NO_PROXY decision, both ways" {
	NO_PROXY="example.com" check -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_line "  no-proxy  NO_PROXY=\"example.com\" does not match 127.0.0.1"
	NO_PROXY="127.0.0.1" check -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_line "  proxy     none: 127.0.0.1 matches NO_PROXY, so culvert connects directly"
	assert_line "direct connection to the target"
	assert_line --regexp "^  spoke     SSH-2\.0-"
}

@test "--check with no proxy configured fails at the configuration, exit 2" {
	check 127.0.0.1 22
	assert_equal "$status" 2
	assert_line "failed at the configuration"
	assert_verdict "failed \(exit 2\) at the configuration: no proxy configured"
}

@test "--check and --fdpass together exit 2" {
	check --fdpass -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 22
	assert_equal "$status" 2
	assert_verdict "failed \(exit 2\) at the configuration: --check and --fdpass"
}

@test "--check -v still logs the steps to stderr" {
	check -v -p "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SSHD_PORT"
	assert_equal "$status" 0
	assert_regex "$stderr" "culvert: proxy answered: HTTP/1\.1 200"
}
