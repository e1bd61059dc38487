# serve.bash: culvert serve in the background, its tokens, and the
# helpers that stand between a --tunnel client and its server.
# Load after common.bash and listen.bash (wait_log).
#
#   make_token FILE              a random 32-byte token (base64), mode 600
#   start_serve NAME ARGS...     "$CULVERT serve --listen 127.0.0.1:PORT
#                  ARGS" on a free port (another one when it was taken
#                  meanwhile); waits for "serving on".  Sets NAME_PORT,
#                  NAME_PID, NAME_LOG and NAME_URL (http://127.0.0.1:PORT/);
#                  stopped by teardown like the helpers.
#   start_cutter NAME --to HOST:PORT [cutter.py options]   a TCP forwarder
#                  that resets its connections on command; sets NAME_PORT,
#                  NAME_PID, NAME_CTL (its control port)
#   cutter NAME COMMAND          send COMMAND (CUT, STATS) to the cutter's
#                  control port, print the answer
#   cutter_count NAME KEY        one number of "cutter NAME STATS"
#   start_chaos NAME [chaosproxy.py options]   an HTTP proxy that holds
#                  back and breaks requests; sets NAME_PORT, NAME_PID,
#                  NAME_LOG
#   sign METHOD PATH [TOKENFILE [SKEW [NONCE]]]   an X-Culvert-Auth value
#                  (openssl, not culvert, computes the HMAC)
#   ask PORT METHOD PATH [FIELD...]   one request to 127.0.0.1:PORT; prints
#                  the answer's status line, then its body
#   http_answer PORT             stdin as the request (a captured or
#                  hand-made one); prints the same
#   ssh_both_ways PROXYCOMMAND SIZE   one ssh session moving SIZE bytes
#                  each way at once, sha256 checked (see below)

make_token() {
	head -c 32 /dev/urandom | base64 >"$1"
	chmod 600 "$1"
}

start_serve() {
	local name=$1 dir log pid port try
	shift
	dir=$(helper_dir)
	log="$dir/$name.log"
	for ((try = 1; try <= 5; try++)); do
		port=$(free_port)
		: >"$log"
		"$CULVERT" serve --listen "127.0.0.1:$port" "$@" \
		    </dev/null >"$dir/$name.out" 2>"$log" 3>&- &
		pid=$!
		echo "$pid" >>"$dir/helper.pids"
		wait_for "grep -q 'serving on' '$log' || process_gone $pid" 15
		if ! process_gone "$pid" && grep -q 'serving on' "$log"; then
			printf -v "${name}_PORT" '%s' "$port"
			printf -v "${name}_PID" '%s' "$pid"
			printf -v "${name}_LOG" '%s' "$log"
			printf -v "${name}_URL" '%s' "http://127.0.0.1:$port/"
			return 0
		fi
		grep -q 'cannot listen' "$log" || break
	done
	fail "culvert serve $* did not start: $(cat "$log")"
}

start_cutter() {
	local name=$1 dir
	shift
	dir=$(helper_dir)
	rm -f "$dir/$name.ctl"
	start_helper "$name" cutter.py --control-port-file "$dir/$name.ctl" "$@"
	printf -v "${name}_CTL" '%s' "$(<"$dir/$name.ctl")"
}

cutter() {
	local ctl_var="${1}_CTL" fd reply
	exec {fd}<>"/dev/tcp/127.0.0.1/${!ctl_var}" || return 1
	printf '%s\n' "$2" >&"$fd"
	read -r -t 10 reply <&"$fd"
	exec {fd}>&-
	printf '%s\n' "$reply"
}

# cutter_count NAME KEY: from "STATS conns 3 open 1 cut 2 idlecut 0".
cutter_count() {
	cutter "$1" STATS | awk -v k="$2" '{
		for (i = 2; i < NF; i += 2)
			if ($i == k) print $(i + 1)
	}'
}

start_chaos() {
	local name=$1 dir
	shift
	dir=$(helper_dir)
	printf -v "${name}_LOG" '%s' "$dir/$name.log"
	start_helper "$name" chaosproxy.py --log "$dir/$name.log" "$@"
}

# sign METHOD PATH [TOKENFILE [SKEW [NONCE]]]: the X-Culvert-Auth value
# of src/proto/session.h, "v1 NONCE TIME MAC": MAC the hex HMAC-SHA256
# under the token (the file without its final newline) of "culvert-v1
# METHOD PATH NONCE TIME"; TIME now plus SKEW seconds; NONCE fresh.
sign() {
	local tok=${3:-$CULVERT_TOKEN_FILE} when nonce=${5:-} key mac
	[[ -n $nonce ]] || nonce=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	when=$((EPOCHSECONDS + ${4:-0}))
	key=$(<"$tok")
	mac=$(printf 'culvert-v1 %s %s %s %s' "$1" "$2" "$nonce" "$when" |
	    openssl dgst -sha256 -hmac "$key" | sed 's/^.*= //')
	printf 'v1 %s %s %s\n' "$nonce" "$when" "$mac"
}

# http_whole PORT: send stdin to 127.0.0.1:PORT as it is, print the whole
# answer, head and body, without CRs; at most 10 s.
http_whole() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
	{ cat >&"$fd"; } 2>/dev/null
	timeout 10 cat <&"$fd" | tr -d '\r'
	exec {fd}>&-
}

# http_answer PORT: as http_whole, but only the answer's status line and
# then its body.
http_answer() {
	local answer
	answer=$(http_whole "$1") || return 1
	printf '%s\n' "${answer%%$'\n'*}"
	[[ $answer == *$'\n\n'* ]] && printf '%s\n' "${answer#*$'\n\n'}"
	return 0
}

# ask PORT METHOD PATH [FIELD...]: the request, with each FIELD line
# ("Name: value") and Connection: close, through http_answer.
ask() {
	local port=$1 method=$2 path=$3 f
	shift 3
	{
		printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n' "$method" \
		    "$path" "$port"
		for f in "$@"; do
			printf '%s\r\n' "$f"
		done
		printf 'Connection: close\r\n\r\n'
	} | http_answer "$port"
}

# ssh_both_ways PROXYCOMMAND SIZE: one ssh session (to the sshd of
# servers.bash) that runs a command moving SIZE random bytes each way at
# once; the sha256 of what arrived at each end must match what was sent
# (sshd runs here, so its files are ours).  SSH_BOTH_WAYS_HOOK, when
# set, is run (eval'd) while the transfer goes on, with $up_got and
# $down_got the files that grow.
ssh_both_ways() {
	local pc=$1 size=$2 dir=$BATS_TEST_TMPDIR pid st=0
	head -c "$size" /dev/urandom >"$dir/up.src"
	head -c "$size" /dev/urandom >"$dir/down.src"
	: >"$dir/up.got"
	: >"$dir/down.got"
	timeout "${SSH_BOTH_WAYS_TIMEOUT:-60}" "$SSHD_SSH" \
	    ${SSH_EXTRA_OPTS[@]+"${SSH_EXTRA_OPTS[@]}"} -o ProxyCommand="$pc" \
	    root@127.0.0.1 "cat '$dir/down.src' & cat > '$dir/up.got'; wait" \
	    <"$dir/up.src" >"$dir/down.got" 2>"$dir/ssh.err" 3>&- &
	pid=$!
	if [[ -n ${SSH_BOTH_WAYS_HOOK:-} ]]; then
		# shellcheck disable=SC2034 # for the hook
		local up_got=$dir/up.got down_got=$dir/down.got
		eval "$SSH_BOTH_WAYS_HOOK"
	fi
	wait "$pid" || st=$?
	[[ $st == 0 ]] || fail "ssh exited $st: $(cat "$dir/ssh.err")"
	assert_equal "$(stat -c %s "$dir/up.got")" "$size"
	assert_equal "$(stat -c %s "$dir/down.got")" "$size"
	assert_equal "$(file_sha "$dir/up.got")" "$(file_sha "$dir/up.src")"
	assert_equal "$(file_sha "$dir/down.got")" "$(file_sha "$dir/down.src")"
}
