#!/usr/bin/env bats
# Sessions that outlive their connection: ssh through squid and
# culvert serve while a helper in front of squid resets the proxy's
# connections (stream and HTTP transports) or cuts them when idle; the
# resume deadline; a stolen session id without the token.

# output, lines and status come from bats' run.
# shellcheck disable=SC2154

load test_helper/common
load test_helper/servers
load test_helper/listen
load test_helper/serve

setup_file() {
	begin_setup_file
	make_token "$BATS_FILE_TMPDIR/token"
	make_token "$BATS_FILE_TMPDIR/wrong"
	start_target ECHO echo
	start_target SINK sink
	end_setup_file
	start_sshd
	start_serve SERVE --allow "127.0.0.1:$SSHD_PORT" \
	    --allow "127.0.0.1:$ECHO_PORT" --allow "127.0.0.1:$SINK_PORT" \
	    --token-file "$BATS_FILE_TMPDIR/token"
	export SERVE_PORT SERVE_PID SERVE_LOG SERVE_URL
	start_squid "$SERVE_PORT"
	start_squid --name SQUIDNC --deny-connect "$SERVE_PORT"
}

setup() {
	require_culvert
	clean_env
	export CULVERT_TOKEN_FILE="$BATS_FILE_TMPDIR/token"
}

# cut_three_times NAME SIZE: (a hook of ssh_both_ways) when a fifth, two
# and three fifths of SIZE have arrived at both ends, reset every
# connection the cutter NAME forwards; each cut must find one (the last
# leaves two fifths to move, time enough for a loaded machine to cut).
cut_three_times() {
	local name=$1 size=$2 q
	for q in 1 2 3; do
		wait_for "(( \$(stat -c %s '$up_got') >= $size * $q / 5 &&
		    \$(stat -c %s '$down_got') >= $size * $q / 5 ))" 60 ||
		    fail "stalled before cut $q: $(cat "$BATS_TEST_TMPDIR/ssh.err")"
		run cutter "$name" CUT
		assert_output --regexp '^CUT [1-9]'
	done
}

# resumed_count: how many resumes culvert serve has logged.
resumed_count() {
	grep -c ' resumed by ' "$SERVE_LOG" || true
}

@test "ssh survives three resets of the proxy's stream connection while 50 MiB move each way" {
	local before size=$((50 << 20))
	start_cutter CUT --to "127.0.0.1:$SQUID_PORT" --rate 20000000
	before=$(resumed_count)
	SSH_BOTH_WAYS_TIMEOUT=150 \
	    SSH_BOTH_WAYS_HOOK="cut_three_times CUT $size" \
	    ssh_both_ways "$CULVERT --tunnel $SERVE_URL --tunnel-transport stream -p http://127.0.0.1:$CUT_PORT %h %p" \
	    "$size"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/ssh.err")" ""
	(($(resumed_count) >= before + 3)) || fail "$(cat "$SERVE_LOG")"
	assert_equal "$(cutter_count CUT cut)" 3
}

@test "ssh survives three resets of the proxy's connections while 50 MiB move each way over HTTP requests" {
	local size=$((50 << 20))
	start_cutter CUT --to "127.0.0.1:$SQUIDNC_PORT" --rate 20000000
	SSH_BOTH_WAYS_TIMEOUT=150 \
	    SSH_BOTH_WAYS_HOOK="cut_three_times CUT $size" \
	    ssh_both_ways "$CULVERT --tunnel $SERVE_URL --tunnel-transport http -p http://127.0.0.1:$CUT_PORT %h %p" \
	    "$size"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/ssh.err")" ""
	# every cut hit the transfer: requests in flight were reset
	(($(cutter_count CUT cut) >= 3)) || fail "$(cutter CUT STATS)"
}

@test "an ssh session idle for 20 s behind a proxy that cuts idle tunnels after 3 s still works" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out w pid st=0 t0
	start_cutter IDLE --to "127.0.0.1:$SQUID_PORT" --idle-cut 3
	mkfifo "$in"
	timeout 90 "$SSHD_SSH" \
	    -o ProxyCommand="$CULVERT --tunnel $SERVE_URL -p http://127.0.0.1:$IDLE_PORT %h %p" \
	    root@127.0.0.1 'while read -r l; do echo "got $l"; done' \
	    <"$in" >"$out" 2>"$BATS_TEST_TMPDIR/ssh.err" 3>&- &
	pid=$!
	exec {w}>"$in"
	echo one >&"$w"
	wait_for "grep -q 'got one' '$out'" 30 ||
	    fail "no answer: $(cat "$BATS_TEST_TMPDIR/ssh.err")"
	t0=$(now)
	# idle: the helper cuts the tunnel every 3 s, culvert resumes
	wait_for "(( \$(cutter_count IDLE idlecut) >= 5 ))" 40 ||
	    fail "no idle cuts: $(cutter IDLE STATS)"
	wait_for "awk -v t=\$(elapsed_since $t0) 'BEGIN { exit !(t >= 20) }'" 30
	echo two >&"$w"
	wait_for "grep -q 'got two' '$out'" 20 ||
	    fail "the session died: $(cat "$BATS_TEST_TMPDIR/ssh.err")"
	exec {w}>&-
	wait "$pid" || st=$?
	assert_equal "$st" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/ssh.err")" ""
}

@test "a path that goes silent is noticed within two keep-alive periods and the session resumes" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out w pid t0
	start_cutter F --to "127.0.0.1:$SERVE_PORT"
	mkfifo "$in"
	timeout 60 "$CULVERT" --tunnel "http://127.0.0.1:$F_PORT/" --keepalive 1 \
	    127.0.0.1 "$ECHO_PORT" <"$in" >"$out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	exec {w}>"$in"
	echo one >&"$w"
	wait_for "grep -q one '$out'" 10 || fail "no echo: $(cat "$BATS_TEST_TMPDIR/err")"
	# no reset, no close: nothing moves any more
	run cutter F FREEZE
	assert_output "FREEZE 1"
	t0=$(now)
	echo two >&"$w"
	wait_for "grep -q two '$out'" 15 ||
	    fail "not resumed: $(cat "$BATS_TEST_TMPDIR/err")"
	assert_elapsed_between "$t0" 1.5 6
	assert_equal "$(cutter_count F conns)" 2
	wait_log SERVE "session [0-9a-f]{8} resumed by "
	exec {w}>&-
	kill "$pid"
	wait "$pid" || true
}

@test "the end of the input (-N) lost with a silent path is sent again after the resume" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out w pid st=0
	start_cutter F --to "127.0.0.1:$SERVE_PORT"
	mkfifo "$in"
	timeout 60 "$CULVERT" -N --tunnel "http://127.0.0.1:$F_PORT/" \
	    --keepalive 1 127.0.0.1 "$SINK_PORT" <"$in" >"$out" \
	    2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	exec {w}>"$in"
	gen 100K >&"$w"
	wait_log SERVE "session [0-9a-f]{8} opened by .* to 127\.0\.0\.1:$SINK_PORT$"
	wait_for "[[ \$(cutter_count F open) == 1 ]]" 10
	# the EOF goes into a path that moves nothing any more
	run cutter F FREEZE
	assert_output "FREEZE 1"
	exec {w}>&-
	wait "$pid" || st=$?
	assert_equal "$st" 0
	assert_equal "$(cat "$out")" "$(gen_sha 100K) $((100 << 10))"
}

@test "a client gone silent for good: the server ends its session after the deadlines" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out w pid id
	start_serve B --allow "127.0.0.1:$ECHO_PORT" --resume-timeout 2
	start_cutter F --to "127.0.0.1:$B_PORT"
	mkfifo "$in"
	timeout 60 "$CULVERT" --tunnel "http://127.0.0.1:$F_PORT/" 127.0.0.1 \
	    "$ECHO_PORT" <"$in" >"$out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	exec {w}>"$in"
	echo one >&"$w"
	wait_for "grep -q one '$out'" 10 || fail "no echo: $(cat "$BATS_TEST_TMPDIR/err")"
	id=$(sed -n 's/.*session \([0-9a-f]\{8\}\) opened by.*/\1/p' "$B_LOG")
	# the path dies silently, and so does the client
	run cutter F FREEZE
	assert_output "FREEZE 1"
	kill -KILL "$pid"
	wait "$pid" || true
	exec {w}>&-
	# 2 s without a frame end the connection, 2 s more the session
	wait_log B "session $id closed after .*\(the client did not come back within 2 s\)" 15
}

@test "when the server stays away past --resume-timeout culvert exits 1 then, not before" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out w pid st=0 t0
	start_serve B --allow "127.0.0.1:$ECHO_PORT"
	mkfifo "$in"
	CULVERT_TOKEN_FILE='' timeout 30 "$CULVERT" --tunnel "$B_URL" \
	    --resume-timeout 3 127.0.0.1 "$ECHO_PORT" \
	    <"$in" >"$out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	exec {w}>"$in"
	echo one >&"$w"
	wait_for "grep -q one '$out'" 10 || fail "no echo: $(cat "$BATS_TEST_TMPDIR/err")"
	# the clock starts before the kill: culvert may see the break at once
	t0=$(now)
	kill -KILL "$B_PID"
	wait "$pid" || st=$?
	assert_elapsed_between "$t0" 3 8
	exec {w}>&-
	assert_equal "$st" 1
	stderr=$(<"$BATS_TEST_TMPDIR/err")
	mapfile -t stderr_lines <"$BATS_TEST_TMPDIR/err"
	assert_one_culvert_line
	[[ $stderr == *"could not resume the session within 3 s (--resume-timeout)"* ]] ||
	    fail "$stderr"
}

@test "a resume with the right session id but no or a wrong token is refused, logged, and changes nothing" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out w pid sid path
	start_cutter TAP --to "127.0.0.1:$SERVE_PORT" --tap "$BATS_TEST_TMPDIR"
	mkfifo "$in"
	timeout 60 "$CULVERT" --tunnel "http://127.0.0.1:$TAP_PORT/" 127.0.0.1 \
	    "$ECHO_PORT" <"$in" >"$out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	exec {w}>"$in"
	echo one >&"$w"
	wait_for "grep -q one '$out'" 10 || fail "no echo: $(cat "$BATS_TEST_TMPDIR/err")"
	sid=$(grep -ao 'X-Culvert-Session: [0-9a-f]*' "$BATS_TEST_TMPDIR/1.down" |
	    cut -d' ' -f2)
	[[ $sid =~ ^[0-9a-f]{32}$ ]] || fail "no session id in $(cat -v "$BATS_TEST_TMPDIR/1.down")"
	grep -q "session ${sid:0:8} opened by" "$SERVE_LOG"
	path="/culvert/stream?s=$sid&a=0"
	run ask "$SERVE_PORT" POST "$path"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	run ask "$SERVE_PORT" POST "$path" \
	    "X-Culvert-Auth: $(sign POST "$path" "$BATS_FILE_TMPDIR/wrong")"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	assert_line --index 1 'refused: wrong token'
	# nor can it end the session, or take its data
	run ask "$SERVE_PORT" POST "/culvert/close?s=$sid"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	run ask "$SERVE_PORT" GET "/culvert/down?s=$sid&a=0" \
	    "X-Culvert-Auth: $(sign GET "/culvert/down?s=$sid&a=0" "$BATS_FILE_TMPDIR/wrong")"
	assert_line --index 0 --regexp '^HTTP/1.1 401 '
	wait_log SERVE '401 Unauthorized: refused: no X-Culvert-Auth'
	wait_log SERVE '401 Unauthorized: refused: wrong token'
	echo two >&"$w"
	wait_for "grep -q two '$out'" 10 ||
	    fail "the session stopped: $(cat "$BATS_TEST_TMPDIR/err")"
	run grep -c "session ${sid:0:8} resumed" "$SERVE_LOG"
	assert_output 0
	# the tap saw one connection: the session never had to resume
	assert_equal "$(cutter_count TAP conns)" 1
	exec {w}>&-
	kill "$pid"
	wait "$pid" || true
}

@test "culvert serve stops on SIGTERM and its log has no sanitizer report" {
	kill -TERM "$SERVE_PID"
	wait_for "process_gone $SERVE_PID" 10 || fail "culvert serve did not stop"
	wait_log SERVE 'stopping: [0-9]+ connections, [0-9]+ sessions'
	run grep -E 'Sanitizer|runtime error' "$SERVE_LOG"
	assert_output ""
}
