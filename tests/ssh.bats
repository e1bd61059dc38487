#!/usr/bin/env bats
# Real ssh with culvert as its ProxyCommand, to a throwaway sshd (own host
# key, own config, port chosen at run time) through real tinyproxy and real
# squid on loopback (tests/test_helper/servers.bash).

load test_helper/common
load test_helper/servers

SIZE=10000000

setup_file() {
	start_sshd
	start_tinyproxy "$SSHD_PORT"
	start_squid "$SSHD_PORT"
}

teardown_file() {
	servers_stop_all
	common_teardown_file
}

setup() {
	require_culvert
}

# ssh_through NAME ARGS...: run ssh to the throwaway sshd as root with
# culvert through the real proxy NAME (TINYPROXY or SQUID) as ProxyCommand;
# stdin, stdout and stderr are the caller's.
ssh_through() {
	local port_var="${1}_PORT"
	shift
	timeout 60 "$SSHD_SSH" \
	    -o ProxyCommand="$CULVERT -p http://127.0.0.1:${!port_var} %h %p" \
	    root@127.0.0.1 "$@"
}

# command_runs_through NAME
command_runs_through() {
	run --separate-stderr ssh_through "$1" 'echo hello'
	assert_equal "$status" 0
	assert_equal "$output" hello
	assert_equal "$stderr" ""
}

# ten_mb_each_way_through NAME: upload 10 MB with 'cat >', download another
# 10 MB with 'cat', compare sha256 on both ends (sshd runs here, so the
# remote files are local files too).
ten_mb_each_way_through() {
	local up="$BATS_TEST_TMPDIR/up.bin" down_src="$BATS_TEST_TMPDIR/down.src"
	local arrived="$BATS_TEST_TMPDIR/up.arrived"
	local down="$BATS_TEST_TMPDIR/down.bin" remote_sha
	head -c "$SIZE" /dev/urandom >"$up"
	head -c "$SIZE" /dev/urandom >"$down_src"

	ssh_through "$1" "cat > '$arrived'" <"$up" ||
	    fail "upload through $1 failed with status $?"
	remote_sha=$(ssh_through "$1" "sha256sum < '$arrived'" </dev/null |
	    cut -d' ' -f1)
	assert_equal "$remote_sha" "$(file_sha "$up")"

	ssh_through "$1" "cat '$down_src'" </dev/null >"$down" ||
	    fail "download through $1 failed with status $?"
	assert_equal "$(stat -c %s "$down")" "$SIZE"
	assert_equal "$(file_sha "$down")" "$(file_sha "$down_src")"
}

@test "ssh through tinyproxy with culvert as ProxyCommand runs a command" {
	command_runs_through TINYPROXY
}

@test "ssh through squid with culvert as ProxyCommand runs a command" {
	command_runs_through SQUID
}

@test "ssh through tinyproxy moves 10 MB each way intact" {
	ten_mb_each_way_through TINYPROXY
}

@test "ssh through squid moves 10 MB each way intact" {
	ten_mb_each_way_through SQUID
}
