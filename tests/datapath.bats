#!/usr/bin/env bats
# The relay: bytes both ways, EOF and close rules, dying readers.
#
# tests/datapath-portable.bats is a symlink to this file; run under that
# name every culvert run here gets --no-splice, so the portable read/write
# relay passes the same tests as the splice path.  CULVERT_RELAY_OPTS adds
# options by hand (e.g. CULVERT_RELAY_OPTS=--no-splice bats datapath.bats).

# stderr and stderr_lines come from bats' run or run_culvert.
# shellcheck disable=SC2154,SC2016

load test_helper/common

if [[ ${BATS_TEST_FILENAME##*/} == datapath-portable.bats ]]; then
	RELAY_OPTS+=(--no-splice)
fi

setup_file() {
	begin_setup_file
	start_proxy OK ok
	start_proxy HALF halfclose
	start_proxy RST rst
	start_target ECHO echo
	start_target SINK sink
	start_target LATE late 1M 300
	start_target SRC1K source 1000
	start_target SRC64 source 64M
	start_target DUPLEX duplex 32M
	start_target HOLD hold
	end_setup_file
}

setup() {
	require_culvert
}

# via PROXY TARGET: the culvert options and operands for a tunnel through
# the fake proxy PROXY to the target TARGET.
via() {
	local pp="${1}_PORT" tp="${2}_PORT"
	VIA=("${RELAY_OPTS[@]}" -p "http://127.0.0.1:${!pp}" 127.0.0.1 "${!tp}")
}

# hold_stdin_open: make $HELD_FIFO a fifo whose write end this shell keeps
# open, so a reader never sees EOF on it.
hold_stdin_open() {
	HELD_FIFO="$BATS_TEST_TMPDIR/stdin.fifo"
	mkfifo "$HELD_FIFO"
	exec {HELD_FD}<>"$HELD_FIFO"
}

release_stdin() {
	[[ -n ${HELD_FD:-} ]] && exec {HELD_FD}>&-
	HELD_FD=
}

teardown() {
	release_stdin
	common_teardown
}

# measure_pipeline 'SHELL CODE': run it with bash's time; sets WALL, CPU
# (user+sys of everything it ran, culvert included) and RC (the exit status
# of the code's first command, written by the code to $RCFILE).
measure_pipeline() {
	local TIMEFORMAT='%R %U %S' t
	RCFILE="$BATS_TEST_TMPDIR/rc"
	export RCFILE CULVERT
	t=$({ time bash -c "$1" >/dev/null 2>>"$BATS_TEST_TMPDIR/pipeline.err"; } 2>&1)
	WALL=$(awk '{ print $1 }' <<<"$t")
	CPU=$(awk '{ printf "%.3f\n", $2 + $3 }' <<<"$t")
	RC=$(<"$RCFILE")
}

# After a run whose stdout reader went away: culvert ended on its own
# (not killed by timeout(1) or a signal, no usage error), promptly.
assert_reader_gone_ok() {
	[[ $RC != 124 ]] || fail "culvert was still running after 10 s"
	[[ $RC == 0 || $RC == 1 ]] ||
	    fail "culvert exited $RC: $(cat "$BATS_TEST_TMPDIR/pipeline.err")"
	assert_at_most "$WALL" 3 "seconds of wall clock"
}

assert_at_most() {
	awk -v v="$1" -v m="$2" 'BEGIN { exit !(v <= m) }' ||
	    fail "$3: $1 > $2"
}

@test "every byte value from 0 to 255 comes back unchanged" {
	"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)' \
	    >"$BATS_TEST_TMPDIR/in"
	via HALF ECHO
	run_culvert -N "${VIA[@]}" <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BATS_TEST_TMPDIR/in" "$OUT"
}

@test "with -N a 10 MiB upload ends with EOF and the target's reply still arrives" {
	via HALF SINK
	CULVERT_TIMEOUT=60 run_culvert -N "${VIA[@]}" < <(gen 10M)
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$output" "$(gen_sha 10M) $((10 << 20))"
}

@test "stdin at EOF from the start still gets a late 1 MiB download" {
	via OK LATE
	run_culvert "${VIA[@]}" </dev/null
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$OUT_SIZE" "$((1 << 20))"
	assert_equal "$(file_sha "$OUT")" "$(gen_sha 1M)"
}

@test "a request piped in and followed at once by EOF still gets the late reply" {
	# printf 'GET / HTTP/1.0\r\n\r\n' | culvert ...: without -N culvert must
	# not half-close, because squid and tinyproxy would end the tunnel.
	via OK LATE
	run_culvert "${VIA[@]}" < <(printf 'GET / HTTP/1.0\r\n\r\n')
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$OUT_SIZE" "$((1 << 20))"
	assert_equal "$(file_sha "$OUT")" "$(gen_sha 1M)"
}

@test "a 64 MiB download arrives intact" {
	via OK SRC64
	CULVERT_TIMEOUT=60 run_culvert "${VIA[@]}" </dev/null
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$OUT_SIZE" "$((64 << 20))"
	assert_equal "$(file_sha "$OUT")" "$(gen_sha 64M)"
}

@test "a 64 MiB download into a pipe arrives intact" {
	local got
	via OK SRC64
	got=$(timeout 60 "$CULVERT" "${VIA[@]}" </dev/null | sha256sum)
	assert_equal "${got%% *}" "$(gen_sha 64M)"
}

@test "a 10 MiB upload from a regular file arrives intact" {
	gen 10M >"$BATS_TEST_TMPDIR/in"
	via HALF SINK
	CULVERT_TIMEOUT=60 run_culvert -N "${VIA[@]}" <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 0
	assert_equal "$output" "$(gen_sha 10M) $((10 << 20))"
}

# run_sockstdio [HELPER OPTIONS] -- CULVERT ARGS: run culvert with its
# stdin and stdout on sockets (tests/helpers/sockstdio.py); its stdout
# goes to $OUT, its stderr to $ERR.
run_sockstdio() {
	local opts=()
	while [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	OUT="$BATS_TEST_TMPDIR/culvert.out"
	ERR="$BATS_TEST_TMPDIR/culvert.err"
	status=0
	timeout 60 "$PYTHON" "$HELPERS/sockstdio.py" "${opts[@]}" \
	    --out "$OUT" -- "$CULVERT" "$@" 2>"$ERR" || status=$?
	stderr=$(<"$ERR")
	output=$(tr -d '\0' <"$OUT")
}

# echo_through_socket FAMILY: 10 MiB to the echo target and back with
# stdin and stdout one socket of FAMILY (unix or tcp), ended by a
# half-close that culvert -N passes on.
echo_through_socket() {
	gen 10M >"$BATS_TEST_TMPDIR/in"
	via HALF ECHO
	run_sockstdio --family "$1" --in "$BATS_TEST_TMPDIR/in" -- \
	    -N "${VIA[@]}"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp "$BATS_TEST_TMPDIR/in" "$OUT"
}

@test "stdin and stdout as one Unix socket: 10 MiB echoed back through a half-close" {
	echo_through_socket unix
}

@test "stdin and stdout as one TCP socket: 10 MiB echoed back through a half-close" {
	echo_through_socket tcp
}

@test "stdin and stdout as two sockets: 32 MiB each way at once" {
	gen 32M >"$BATS_TEST_TMPDIR/in"
	via HALF DUPLEX
	run_sockstdio --split --family tcp --in "$BATS_TEST_TMPDIR/in" -- \
	    -N "${VIA[@]}"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_duplex_out "$OUT"
}

@test "a 64 MiB download into a socket arrives intact" {
	via OK SRC64
	run_sockstdio -- "${VIA[@]}"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "$(file_sha "$OUT")" "$(gen_sha 64M)"
}

@test "culvert ends quietly when the socket on its stdout is closed" {
	local start
	via OK SRC64
	start=$(now)
	run_sockstdio --split --close-after 65536 -- "${VIA[@]}"
	[[ $status == 0 || $status == 1 ]] ||
	    fail "culvert exited $status: $stderr"
	assert_elapsed_between "$start" 0 5
	cmp "$OUT" <(gen 64M | head -c 65536)
}

@test "--timeout does not cut a tunnel that is already up" {
	# The late target answers 0.6 s after the request: well past -t 0.3.
	start_target SLOW late 1000 600
	start_proxy P ok
	run_culvert "${RELAY_OPTS[@]}" -t 0.3 -p "http://127.0.0.1:$P_PORT" \
	    127.0.0.1 "$SLOW_PORT" </dev/null
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp <(gen 1000) "$OUT"
}

@test "a stdout that cannot be written exits 1 with a message" {
	via OK SRC1K
	run --separate-stderr timeout 10 bash -c 'exec "$@" >/dev/full' _ \
	    "$CULVERT" "${VIA[@]}" </dev/null
	assert_equal "$status" 1
	assert_one_culvert_line
}

# assert_duplex_out FILE: FILE holds what the duplex 32M target sent: the
# 32 MiB stream, then its digest of the 32 MiB it read.
assert_duplex_out() {
	local n=$((32 << 20))
	assert_equal "$(head -c "$n" "$1" | sha256sum | cut -d' ' -f1)" \
	    "$(gen_sha 32M)"
	assert_equal "$(tail -c +"$((n + 1))" "$1")" "$(gen_sha 32M) $n"
}

@test "32 MiB can flow each way at once without a deadlock" {
	via HALF DUPLEX
	CULVERT_TIMEOUT=120 run_culvert -N "${VIA[@]}" < <(gen 32M)
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_duplex_out "$OUT"
}

@test "32 MiB each way at once with stdin and stdout both pipes" {
	local rcs
	via HALF DUPLEX
	gen 32M | timeout 120 "$CULVERT" -N "${VIA[@]}" \
	    2>"$BATS_TEST_TMPDIR/err" | cat >"$BATS_TEST_TMPDIR/out"
	rcs="${PIPESTATUS[*]}"
	assert_equal "$rcs" "0 0 0"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
	assert_duplex_out "$BATS_TEST_TMPDIR/out"
}

@test "32 MiB each way at once with stdin a regular file" {
	gen 32M >"$BATS_TEST_TMPDIR/in"
	via HALF DUPLEX
	CULVERT_TIMEOUT=120 run_culvert -N "${VIA[@]}" <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_duplex_out "$OUT"
}

@test "a far side that closes ends culvert at once with 0 while stdin stays open" {
	local start
	hold_stdin_open
	via OK SRC1K
	start=$(now)
	run_culvert "${VIA[@]}" <"$HELD_FIFO"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	cmp <(gen 1000) "$OUT"
	assert_elapsed_between "$start" 0 3
}

@test "a reset from the proxy mid-tunnel delivers what arrived and exits 1" {
	hold_stdin_open
	via RST SRC1K
	run_culvert "${VIA[@]}" <"$HELD_FIFO"
	assert_equal "$status" 1
	assert_equal "$output" "before the reset"
	assert_equal "$OUT_SIZE" 17
	assert_one_culvert_line
}

@test "culvert exits promptly with little CPU when its stdout reader goes away" {
	via OK SRC64
	VIA_STR=$(printf '%q ' "${VIA[@]}")
	measure_pipeline "{ timeout 10 \"\$CULVERT\" $VIA_STR </dev/null; echo \$? >\"\$RCFILE\"; } | head -c 1 >\"$BATS_TEST_TMPDIR/first\""
	assert_reader_gone_ok
	# The tunnel was up: the reader got the first byte of the stream.
	cmp "$BATS_TEST_TMPDIR/first" <(gen 1)
	assert_at_most "$CPU" 1.5 "seconds of CPU"
}

@test "culvert exits promptly with little CPU when its reader goes away and SIGPIPE is ignored" {
	via OK SRC64
	VIA_STR=$(printf '%q ' "${VIA[@]}")
	measure_pipeline "{ trap '' PIPE; timeout 10 \"\$CULVERT\" $VIA_STR </dev/null; echo \$? >\"\$RCFILE\"; } | head -c 1 >\"$BATS_TEST_TMPDIR/first\""
	assert_reader_gone_ok
	# The tunnel was up: the reader got the first byte of the stream.
	cmp "$BATS_TEST_TMPDIR/first" <(gen 1)
	assert_at_most "$CPU" 1.5 "seconds of CPU"
}

@test "culvert does not outlive its reader when stdin is at EOF and the far side is silent" {
	via OK HOLD
	BEFORE=$(proxy_connections OK)
	VIA_STR=$(printf '%q ' "${VIA[@]}")
	measure_pipeline "{ timeout 10 \"\$CULVERT\" $VIA_STR </dev/null; echo \$? >\"\$RCFILE\"; } | true"
	assert_reader_gone_ok
	assert_at_most "$CPU" 1 "seconds of CPU"
	# The tunnel was up: culvert reached the proxy.
	assert_equal "$(proxy_connections OK)" "$((BEFORE + 1))"
}

@test "culvert does not outlive its reader when SIGPIPE is ignored and nothing is written" {
	via OK HOLD
	BEFORE=$(proxy_connections OK)
	VIA_STR=$(printf '%q ' "${VIA[@]}")
	measure_pipeline "{ trap '' PIPE; timeout 10 \"\$CULVERT\" $VIA_STR </dev/null; echo \$? >\"\$RCFILE\"; } | true"
	assert_reader_gone_ok
	assert_at_most "$CPU" 1 "seconds of CPU"
	# The tunnel was up: culvert reached the proxy.
	assert_equal "$(proxy_connections OK)" "$((BEFORE + 1))"
}

@test "culvert does not outlive its reader while stdin stays open and the far side is silent" {
	hold_stdin_open
	via OK HOLD
	BEFORE=$(proxy_connections OK)
	VIA_STR=$(printf '%q ' "${VIA[@]}")
	measure_pipeline "{ timeout 10 \"\$CULVERT\" $VIA_STR <\"$HELD_FIFO\"; echo \$? >\"\$RCFILE\"; } | true"
	assert_reader_gone_ok
	assert_at_most "$CPU" 1 "seconds of CPU"
	# The tunnel was up: culvert reached the proxy.
	assert_equal "$(proxy_connections OK)" "$((BEFORE + 1))"
}

@test "culvert leaves O_NONBLOCK alone on the stdin and stdout it inherits" {
	via HALF ECHO
	run "$PYTHON" - "$CULVERT" -N "${VIA[@]}" <<'PY'
import fcntl, os, select, subprocess, sys
r_in, w_in = os.pipe()
r_out, w_out = os.pipe()
# The parent keeps r_in and w_out open: they share their open file
# descriptions with culvert's stdin and stdout, so a flag culvert sets on
# them is visible here.
p = subprocess.Popen(sys.argv[1:], stdin=r_in, stdout=w_out)
os.write(w_in, b"ping\n")
got = b""
while not got.endswith(b"\n"):
    if not select.select([r_out], [], [], 10)[0]:
        break
    got += os.read(r_out, 100)
nb_in = bool(fcntl.fcntl(r_in, fcntl.F_GETFL) & os.O_NONBLOCK)
nb_out = bool(fcntl.fcntl(w_out, fcntl.F_GETFL) & os.O_NONBLOCK)
os.close(w_in)
try:
    rc = p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "hung"
print("echo=%r stdin_nonblock=%s stdout_nonblock=%s rc=%s"
      % (got, nb_in, nb_out, rc))
PY
	assert_equal "$status" 0
	assert_equal "$output" "echo=b'ping\\n' stdin_nonblock=False stdout_nonblock=False rc=0"
}

@test "SIGTERM ends a running tunnel quietly" {
	local pid
	hold_stdin_open
	start_proxy P ok
	timeout 10 "$CULVERT" "${RELAY_OPTS[@]}" -p "http://127.0.0.1:$P_PORT" \
	    127.0.0.1 "$HOLD_PORT" <"$HELD_FIFO" >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	# Up when the proxy has logged the request and culvert is still alive.
	wait_for "[[ -s '$P_LOG' ]]" 5 || fail "culvert never reached the proxy"
	kill -TERM "$pid"
	wait_for "process_gone $pid" 2 || fail "culvert ignored SIGTERM"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
}
