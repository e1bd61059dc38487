#!/usr/bin/env bats
# SOCKS4, SOCKS4a, SOCKS5 and SOCKS5h: through the real servers Debian ships
# (dante and microsocks, each on a loopback port chosen at run time,
# tests/test_helper/servers.bash), against the scripted fake server
# tests/helpers/fakesocks.py for the exact request bytes, every error reply,
# truncated, slow and silent servers, and real ssh through each real server.

load test_helper/common
load test_helper/servers

SSH_SIZE=5000000

setup_file() {
	begin_setup_file
	start_loopback_target ECHO echo
	end_setup_file
	start_danted
	start_danted --name DANTEDAUTH --auth "dante-pw-$RANDOM"
	start_microsocks
	start_microsocks --name MSAUTH --auth msuser "ms-pw-$RANDOM"
	start_sshd
	BYTES="$BATS_FILE_TMPDIR/bytes.bin"
	"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' \
	    >"$BYTES"
	export BYTES
}

setup() {
	require_culvert
	clean_env
}

# start_fake NAME SCRIPT [fakesocks options...]: a fake SOCKS server for
# this test; sets NAME_PORT, NAME_PID and NAME_LOG (one line of hex per
# connection).
start_fake() {
	local name=$1 script=$2
	shift 2
	printf -v "${name}_LOG" '%s' "$BATS_TEST_TMPDIR/$name.log"
	start_helper "$name" fakesocks.py --script "$script" \
	    --log "$BATS_TEST_TMPDIR/$name.log" "$@"
}

# feed_until FILE SIZE: print FILE, then hold stdin open until culvert's
# stdout file has SIZE bytes (at most 10 s), then end it.  microsocks ends
# the whole tunnel at the first EOF, so stdin must outlive the echo.
feed_until() {
	cat "$1"
	wait_for "[[ \$(stat -c %s '$BATS_TEST_TMPDIR/culvert.out' \
	    2>/dev/null || echo 0) -ge $2 ]]" 10 || true
}

# echo_via URL [ARGS...]: bytes 0-255 to the echo target at 127.0.0.1 and
# back through the proxy URL, culvert -N ARGS; the tunnel must end cleanly.
echo_via() {
	local url=$1
	shift
	run_culvert -N "$@" -p "$url" 127.0.0.1 "$ECHO_PORT" \
	    < <(feed_until "$BYTES" 256)
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BYTES" "$OUT"
}

# fake_echo NAME [ARGS...]: bytes 0-255 through the fake server NAME to the
# echo target named localhost, culvert -N ARGS.  Sets status and friends.
# The target listens on 127.0.0.1 and ::1, so it does not matter which of
# them localhost resolves to first here.
fake_echo() {
	local port_var="${1}_PORT" scheme=socks5h
	shift
	if [[ ${1:-} == socks* ]]; then
		scheme=$1
		shift
	fi
	run_culvert -N "$@" -p "$scheme://127.0.0.1:${!port_var}" \
	    localhost "$ECHO_PORT" <"$BYTES"
}

# request_of NAME N: field N (1-based) of the fake server's first log line.
request_of() {
	local log_var="${1}_LOG"
	head -n 1 "${!log_var}" | cut -d' ' -f"$2"
}

# addr_hex ADDR: a SOCKS5 address type and address for the IP address
# ADDR, in hex: 01 and four bytes for IPv4, 04 and sixteen for IPv6.
addr_hex() {
	"$PYTHON" -c 'import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
print("%02x%s" % (1 if a.version == 4 else 4, a.packed.hex()))' "$1"
}

# name_resolving_to ADDR...: set NAME to a target name that culvert
# resolves to exactly these addresses in this order (common.bash:
# addresses_of).  Preferably the test's own name in a private /etc/hosts
# (common.bash: private_hosts); where none can be had, one of the machine's
# usual loopback names that happens to resolve that way.  Skips the test,
# saying why, when there is no such name here.
name_resolving_to() {
	local want got addr why
	local -a lines=() names
	want=$(printf '%s\n' "$@")
	for addr in "$@"; do
		lines+=("$addr culvert-target.test")
	done
	if private_hosts "${lines[@]}"; then
		names=(culvert-target.test)
		why="culvert-target.test in a private /etc/hosts resolves to"
	else
		names=(localhost ip6-localhost ip6-loopback localhost6)
		why="no private /etc/hosts here (unshare), and ${names[*]} resolve to"
	fi
	for NAME in "${names[@]}"; do
		got=$(addresses_of "$NAME") || got=
		[[ $got == "$want" ]] && return 0
		why+=" [${got//$'\n'/ }]"
	done
	# AI_ADDRCONFIG: getaddrinfo gives IPv6 addresses only where the
	# machine has an IPv6 address besides ::1.
	skip "no name here that culvert resolves to [$*]: $why"
}

# port_hex PORT: the port as four hex digits, network order.
port_hex() {
	printf '%04x' "$1"
}

# str_hex STRING: the bytes of STRING in hex.
str_hex() {
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# refused_with SCRIPT REGEX: the fake server answers CONNECT with a SOCKS5
# error; culvert exits 4 with one readable line naming the target.
refused_with() {
	start_fake FS "$1"
	fake_echo FS
	assert_equal "$status" 4
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "CONNECT localhost:$ECHO_PORT"
	assert_regex "$stderr" "$2"
}

## real servers ############################################################

@test "a socks5h tunnel through real dante echoes bytes 0-255 exactly" {
	echo_via "socks5h://127.0.0.1:$DANTED_PORT"
}

@test "a socks5 tunnel through real dante echoes bytes 0-255 exactly" {
	echo_via "socks5://127.0.0.1:$DANTED_PORT"
}

@test "dante with username/password auth carries the tunnel with the right password" {
	export CULVERT_PROXY_PASSWORD=$DANTEDAUTH_PASSWORD
	echo_via "socks5h://$DANTEDAUTH_USER@127.0.0.1:$DANTEDAUTH_PORT"
}

@test "dante with username/password auth and a wrong password exits 5" {
	export CULVERT_PROXY_PASSWORD="wrong-$DANTEDAUTH_PASSWORD"
	run_culvert -N -p "socks5h://$DANTEDAUTH_USER@127.0.0.1:$DANTEDAUTH_PORT" \
	    127.0.0.1 "$ECHO_PORT" <"$BYTES"
	assert_equal "$status" 5
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "(user name|password)"
}

@test "dante's ruleset refusal exits 4 with 'not allowed by ruleset'" {
	# servers.bash: dante blocks every connection to port 1.
	run_culvert -p "socks5h://127.0.0.1:$DANTED_PORT" 127.0.0.1 1 </dev/null
	assert_equal "$status" 4
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "CONNECT 127\.0\.0\.1:1: .*not allowed by ruleset"
}

@test "a socks5h tunnel through real microsocks echoes bytes 0-255 exactly" {
	echo_via "socks5h://127.0.0.1:$MICROSOCKS_PORT"
}

@test "microsocks with -u/-P carries the tunnel with the right password" {
	export CULVERT_PROXY_PASSWORD=$MSAUTH_PASSWORD
	echo_via "socks5h://127.0.0.1:$MSAUTH_PORT" -U "$MSAUTH_USER"
}

@test "microsocks with -u/-P and a wrong password exits 5" {
	export CULVERT_PROXY_PASSWORD="wrong-$MSAUTH_PASSWORD"
	run_culvert -N -U "$MSAUTH_USER" -p "socks5h://127.0.0.1:$MSAUTH_PORT" \
	    127.0.0.1 "$ECHO_PORT" <"$BYTES"
	assert_equal "$status" 5
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
}

## request bytes ###########################################################

@test "socks5h sends the target name to the proxy (address type 3)" {
	start_fake FS ok
	fake_echo FS socks5h
	assert_equal "$status" 0
	cmp "$BYTES" "$OUT"
	# VER 5, CMD 1 CONNECT, RSV 0, ATYP 3, length 9, "localhost", port.
	assert_equal "$(request_of FS 2)" \
	    "05010003$(printf '%02x' 9)$(str_hex localhost)$(port_hex "$ECHO_PORT")"
}

@test "socks5 resolves localhost itself and sends the first address it gets" {
	# 127.0.0.1 (type 1) on most machines, ::1 (type 4) where /etc/hosts
	# has "::1 localhost" as Debian's does.
	local first
	first=$(addresses_of localhost | head -n 1)
	[[ -n $first ]] || fail "localhost does not resolve here"
	if [[ $first == ::1 ]]; then
		require_ipv6_loopback
	fi
	start_fake FS ok
	fake_echo FS socks5
	assert_equal "$status" 0
	cmp "$BYTES" "$OUT"
	assert_equal "$(request_of FS 2)" \
	    "050100$(addr_hex "$first")$(port_hex "$ECHO_PORT")"
}

@test "socks5 resolves a name for 127.0.0.1 itself and sends address type 1" {
	name_resolving_to 127.0.0.1
	start_fake FS ok
	run_culvert -N -p "socks5://127.0.0.1:$FS_PORT" "$NAME" "$ECHO_PORT" \
	    <"$BYTES"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BYTES" "$OUT"
	assert_equal "$(request_of FS 2)" "050100017f000001$(port_hex "$ECHO_PORT")"
}

@test "socks5 resolves a name for ::1 itself, sends address type 4 and reaches the target over IPv6" {
	require_ipv6_loopback
	name_resolving_to ::1
	start_target ECHO6 --host ::1 echo
	start_fake FS ok
	run_culvert -N -p "socks5://127.0.0.1:$FS_PORT" "$NAME" "$ECHO6_PORT" \
	    <"$BYTES"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BYTES" "$OUT"
	# VER 5, CMD 1 CONNECT, RSV 0, ATYP 4, ::1, port.
	assert_equal "$(request_of FS 2)" \
	    "0501000400000000000000000000000000000001$(port_hex "$ECHO6_PORT")"
}

@test "socks5 without credentials offers only 'no authentication'" {
	start_fake FS ok
	fake_echo FS socks5h
	assert_equal "$status" 0
	assert_equal "$(request_of FS 1)" 050100
}

@test "socks5 sends the user name and password as RFC 1929 says" {
	start_fake FS auth --user alice --pass 's3cret'
	export CULVERT_PROXY_PASSWORD=s3cret
	fake_echo FS socks5h -U alice
	assert_equal "$status" 0
	cmp "$BYTES" "$OUT"
	# VER 1, ULEN, UNAME, PLEN, PASSWD.
	assert_equal "$(request_of FS 2)" \
	    "0105$(str_hex alice)06$(str_hex s3cret)"
}

@test "socks4a sends VN 4, CD 1, the port, 0.0.0.1, the user id and the name" {
	# SOCKS4 has no password; one is given so that no prompt is needed.
	export CULVERT_PROXY_PASSWORD=unused
	local want
	want="0401$(port_hex "$ECHO_PORT")00000001$(str_hex bob)00$(str_hex localhost)00"
	start_fake FS ok --expect "$want"
	fake_echo FS socks4a -U bob
	assert_equal "$status" 0
	cmp "$BYTES" "$OUT"
	assert_equal "$(request_of FS 1)" "$want"
}

@test "a SOCKS4a user id alone needs no password" {
	local want
	want="0401$(port_hex "$ECHO_PORT")00000001$(str_hex bob)00$(str_hex localhost)00"
	start_fake FS ok --expect "$want"
	fake_echo FS socks4a -U bob
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BYTES" "$OUT"
	assert_equal "$(request_of FS 1)" "$want"
}

@test "socks4 with an IPv4 literal target sends that address and an empty user id" {
	start_fake FS ok
	run_culvert -N -p "socks4://127.0.0.1:$FS_PORT" 127.0.0.1 "$ECHO_PORT" \
	    <"$BYTES"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BYTES" "$OUT"
	assert_equal "$(request_of FS 1)" "0401$(port_hex "$ECHO_PORT")7f00000100"
}

@test "socks4 sends the IPv4 address of a name that resolves to ::1 first" {
	name_resolving_to ::1 127.0.0.1
	start_fake FS ok
	run_culvert -N -p "socks4://127.0.0.1:$FS_PORT" "$NAME" "$ECHO_PORT" \
	    <"$BYTES"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BYTES" "$OUT"
	assert_equal "$(request_of FS 1)" "0401$(port_hex "$ECHO_PORT")7f00000100"
}

@test "a success reply followed at once by tunnel data loses no byte" {
	start_fake FS withdata
	fake_echo FS socks5h
	assert_equal "$status" 0
	# 517 bytes of preamble first, then the echo of bytes 0-255.
	"$PYTHON" -c 'import sys
sys.stdout.buffer.write(bytes(range(256)) * 2 + b"\x05\x00\x00\x01\x00" +
    bytes(range(256)))' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$OUT"
}

## error replies ###########################################################

@test "SOCKS5 reply 1 exits 4 with 'general SOCKS server failure'" {
	refused_with rep1 'general (SOCKS )?server failure'
}

@test "SOCKS5 reply 2 exits 4 with 'not allowed by ruleset'" {
	refused_with rep2 'not allowed by ruleset'
}

@test "SOCKS5 reply 3 exits 4 with 'network unreachable'" {
	refused_with rep3 'network unreachable'
}

@test "SOCKS5 reply 4 exits 4 with 'host unreachable'" {
	refused_with rep4 'host unreachable'
}

@test "SOCKS5 reply 5 exits 4 with 'connection refused'" {
	refused_with rep5 'connection refused'
}

@test "SOCKS5 reply 6 exits 4 with 'TTL expired'" {
	refused_with rep6 'TTL expired'
}

@test "SOCKS5 reply 7 exits 4 with 'command not supported'" {
	refused_with rep7 'command not supported'
}

@test "SOCKS5 reply 8 exits 4 with 'address type not supported'" {
	refused_with rep8 'address type not supported'
}

@test "an unassigned SOCKS5 reply code exits 4 and names the code" {
	refused_with rep9 '(code|reply) 9'
}

@test "SOCKS5 reply 255 exits 4 and names the code" {
	refused_with rep255 '(code|reply) 255'
}

@test "a SOCKS4a refusal (0x5B) exits 4 with 'rejected'" {
	start_fake FS rep91
	fake_echo FS socks4a
	assert_equal "$status" 4
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "CONNECT localhost:$ECHO_PORT: .*rejected"
}

@test "a SOCKS5 server that rejects the password exits 5" {
	start_fake FS authfail
	export CULVERT_PROXY_PASSWORD=pass
	fake_echo FS socks5h -U user
	assert_equal "$status" 5
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "(user name|password)"
}

@test "a SOCKS5 server that wants a password culvert does not have exits 5" {
	start_fake FS auth
	fake_echo FS socks5h
	assert_equal "$status" 5
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "method"
}

@test "a SOCKS5 server with no acceptable method exits with a clear message" {
	start_fake FS nomethod
	export CULVERT_PROXY_PASSWORD=pass
	fake_echo FS socks5h -U user
	assert_equal "$status" 5
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "no (acceptable )?.*method"
}

@test "a truncated CONNECT reply exits 7" {
	start_fake FS truncated
	fake_echo FS socks5h
	assert_equal "$status" 7
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "SOCKS5"
}

@test "a truncated greeting reply exits 7" {
	start_fake FS truncgreet
	fake_echo FS socks5h
	assert_equal "$status" 7
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
}

@test "an HTTP proxy given as socks5h exits 7 and says it looks like HTTP" {
	start_fake FS http
	fake_echo FS socks5h
	assert_equal "$status" 7
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "HTTP"
}

@test "a server that sends its replies one byte at a time still works" {
	start_fake FS slow --delay 0.05
	fake_echo FS socks5h
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BYTES" "$OUT"
}

@test "a silent SOCKS server with --timeout 2 exits 6 after about 2 s" {
	start_fake FS silent
	local start
	start=$(now)
	fake_echo FS socks5h --timeout 2
	assert_elapsed_between "$start" 1.9 5
	assert_equal "$status" 6
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "timed? ?out"
}

## length limits ###########################################################

@test "a SOCKS5 user name longer than 255 bytes exits 2 before connecting" {
	start_fake FS auth
	local user
	user=$(printf 'u%.0s' {1..256})
	export CULVERT_PROXY_PASSWORD=pass
	fake_echo FS socks5h -U "$user"
	assert_equal "$status" 2
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "(too long|255)"
	assert_equal "$(proxy_connections FS)" 0
}

@test "a SOCKS5 password longer than 255 bytes exits 2 before connecting" {
	start_fake FS auth
	CULVERT_PROXY_PASSWORD=$(printf 'p%.0s' {1..256})
	export CULVERT_PROXY_PASSWORD
	fake_echo FS socks5h -U user
	assert_equal "$status" 2
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" "(too long|255)"
	assert_equal "$(proxy_connections FS)" 0
}

@test "a SOCKS5 user name of exactly 255 bytes is accepted" {
	local user
	user=$(printf 'u%.0s' {1..255})
	start_fake FS auth --user "$user" --pass pass
	export CULVERT_PROXY_PASSWORD=pass
	fake_echo FS socks5h -U "$user"
	assert_equal "$status" 0
	cmp "$BYTES" "$OUT"
	assert_equal "$(request_of FS 2)" "01ff$(str_hex "$user")04$(str_hex pass)"
}

## real ssh ################################################################

@test "ssh through dante with culvert as ProxyCommand runs a command" {
	sshd_command_runs "$CULVERT -p socks5h://127.0.0.1:$DANTED_PORT %h %p"
}

@test "ssh through dante moves 5 MB each way intact" {
	sshd_round_trip "$CULVERT -p socks5h://127.0.0.1:$DANTED_PORT %h %p" \
	    "$SSH_SIZE"
}

@test "ssh through microsocks with culvert as ProxyCommand runs a command" {
	sshd_command_runs "$CULVERT -p socks5h://127.0.0.1:$MICROSOCKS_PORT %h %p"
}

@test "ssh through microsocks moves 5 MB each way intact" {
	sshd_round_trip "$CULVERT -p socks5h://127.0.0.1:$MICROSOCKS_PORT %h %p" \
	    "$SSH_SIZE"
}
