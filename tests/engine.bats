#!/usr/bin/env bats
# The connection engine: many tunnels set up at once in one poll loop,
# and handshakes over a buffered transport (pipes to a proxy command).

# stderr and stderr_lines come from bats' run or run_culvert.
# shellcheck disable=SC2154

load test_helper/common

setup_file() {
	begin_setup_file
	start_proxy MIXED mixed
	start_proxy OK ok
	start_proxy HALF halfclose
	start_proxy WITHDATA withdata
	start_target ECHO echo
	start_target SRC source 3M
	start_helper SLOWSOCKS fakesocks.py --script slow --delay 0.05
	end_setup_file
}

setup() {
	require_culvert
	[[ -x $HELPER_BIN/manytunnels ]] ||
	    fail "no $HELPER_BIN/manytunnels (run make helpers)"
}

# many_targets N: N of each kind of target the mixed proxy knows.
many_targets() {
	local i
	for ((i = 1; i <= $1; i++)); do
		printf '%s ' "ok$i.test:22" "slow$i.test:22" "deny$i.test:22" \
		    "auth$i.test:22" "authclose$i.test:22"
	done
}

@test "250 tunnels set up at once in one poll loop each end right, and slow answers delay no other" {
	local -a targets
	read -r -a targets <<<"$(many_targets 50)"
	run --separate-stderr timeout 60 "$HELPER_BIN/manytunnels" -u u:p \
	    -t 30 "http://127.0.0.1:$MIXED_PORT" "${targets[@]}"
	assert_equal "$status" 0
	assert_equal "${#lines[@]}" 250
	# INDEX TARGET up MS | INDEX TARGET fail KIND STATUS MS MESSAGE
	local line idx target outcome rest ms fast_max=0 slow_min=999999
	for line in "${lines[@]}"; do
		read -r idx target outcome rest <<<"$line"
		case $target in
		deny*)
			[[ $outcome == fail && $rest == "refused 403 "* ]] ||
			    fail "$line: want a 403 refusal"
			ms=$(awk '{ print $3 }' <<<"$rest") ;;
		*)
			[[ $outcome == up ]] || fail "$line: want the tunnel up"
			ms=$rest ;;
		esac
		if [[ $target == slow* ]]; then
			((ms < slow_min)) && slow_min=$ms
		else
			((ms > fast_max)) && fast_max=$ms
		fi
	done
	# The slow answers take 3 s; every other tunnel ended before the
	# first of them, so none waited behind them.
	((slow_min >= 3000)) || fail "a slow tunnel was up after ${slow_min} ms"
	((fast_max < slow_min)) ||
	    fail "a fast tunnel took ${fast_max} ms, the first slow one ${slow_min} ms"
}

@test "without credentials the 407 rounds of many tunnels end in auth failures, the rest as before" {
	local -a targets
	read -r -a targets <<<"$(many_targets 40)"
	run --separate-stderr timeout 60 "$HELPER_BIN/manytunnels" -t 30 \
	    "http://127.0.0.1:$MIXED_PORT" "${targets[@]}"
	assert_equal "$status" 0
	assert_equal "${#lines[@]}" 200
	assert_equal "$(grep -c ' auth[0-9]*\.test:22 fail auth 407 ' <<<"$output")" 40
	assert_equal "$(grep -c ' authclose[0-9]*\.test:22 fail auth 407 ' <<<"$output")" 40
	assert_equal "$(grep -c ' deny[0-9]*\.test:22 fail refused 403 ' <<<"$output")" 40
	assert_equal "$(grep -c ' \(ok\|slow\)[0-9]*\.test:22 up ' <<<"$output")" 80
}

@test "a proxy that is down fails every tunnel of a batch with unreach" {
	local port
	port=$(free_port)
	run --separate-stderr timeout 30 "$HELPER_BIN/manytunnels" -t 10 \
	    "http://127.0.0.1:$port" a.test:1 b.test:2 c.test:3
	assert_equal "$status" 0
	assert_equal "$(grep -c ' fail unreach 0 ' <<<"$output")" 3
}

## A buffered transport: the proxy over a --proxy-command's pipes ##########

@test "a CONNECT handshake over a proxy command's pipes carries 3 MB intact" {
	run_culvert --proxy-command \
	    "exec $PYTHON $HELPERS/stdiobridge.py 127.0.0.1 $OK_PORT" \
	    -p "http://127.0.0.1:$OK_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$(file_sha "$OUT")" "$(gen_sha 3M)"
}

@test "bytes sent with the 200 in one read over pipes reach stdout first, once" {
	run_culvert --proxy-command \
	    "exec $PYTHON $HELPERS/stdiobridge.py 127.0.0.1 $WITHDATA_PORT" \
	    -p "http://127.0.0.1:$WITHDATA_PORT" 127.0.0.1 "$SRC_PORT" </dev/null
	assert_equal "$status" 0
	# withdata: 512 bytes 0..255 twice, then a fake head and a NUL,
	# before the target's 3 MB.
	local want="$BATS_TEST_TMPDIR/want"
	{
		"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 2 + b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\x00")'
		gen 3M
	} >"$want"
	cmp "$want" "$OUT"
}

@test "a SOCKS5 reply that arrives a byte at a time over pipes is read whole" {
	run_culvert -N --proxy-command \
	    "exec $PYTHON $HELPERS/stdiobridge.py 127.0.0.1 $SLOWSOCKS_PORT" \
	    -p "socks5h://127.0.0.1:$SLOWSOCKS_PORT" 127.0.0.1 "$ECHO_PORT" \
	    < <(printf 'through socks over pipes')
	assert_equal "$status" 0
	assert_equal "$output" "through socks over pipes"
}

@test "a half-close travels through a proxy command's pipe" {
	local data="$BATS_TEST_TMPDIR/data"
	gen 2M >"$data"
	run_culvert -N --proxy-command \
	    "exec $PYTHON $HELPERS/stdiobridge.py 127.0.0.1 $HALF_PORT" \
	    -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$ECHO_PORT" <"$data"
	assert_equal "$status" 0
	cmp "$data" "$OUT"
}

@test "the relay over pipes works the portable way too (--no-splice)" {
	local data="$BATS_TEST_TMPDIR/data"
	gen 2M >"$data"
	run_culvert -N --no-splice --proxy-command \
	    "exec $PYTHON $HELPERS/stdiobridge.py 127.0.0.1 $HALF_PORT" \
	    -p "http://127.0.0.1:$HALF_PORT" 127.0.0.1 "$ECHO_PORT" <"$data"
	assert_equal "$status" 0
	cmp "$data" "$OUT"
}
