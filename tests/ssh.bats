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

setup() {
	require_culvert
}

# via NAME: culvert as ProxyCommand through the real proxy NAME
# (TINYPROXY or SQUID).
via() {
	local port_var="${1}_PORT"
	echo "$CULVERT -p http://127.0.0.1:${!port_var} %h %p"
}

@test "ssh through tinyproxy with culvert as ProxyCommand runs a command" {
	sshd_command_runs "$(via TINYPROXY)"
}

@test "ssh through squid with culvert as ProxyCommand runs a command" {
	sshd_command_runs "$(via SQUID)"
}

@test "ssh through tinyproxy moves 10 MB each way intact" {
	sshd_round_trip "$(via TINYPROXY)" "$SIZE"
}

@test "ssh through squid moves 10 MB each way intact" {
	sshd_round_trip "$(via SQUID)" "$SIZE"
}
