#!/usr/bin/env bats
# Choosing the proxy from the environment like curl does: CULVERT_PROXY,
# https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY, http_proxy, HTTP_PROXY in
# that order (HTTP_PROXY ignored under CGI's REQUEST_METHOD), and the
# NO_PROXY/no_proxy/--no-proxy list that sends a target around the proxy.
# Two fake proxies (A and B) tell which one a run went through: each
# counts the connections it accepted (common.bash: proxy_connections).

load test_helper/common

PROXY_VARS=(CULVERT_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
    http_proxy HTTP_PROXY)

setup_file() {
	begin_setup_file
	start_loopback_target ECHO echo
	# Proxies that keep half-closed tunnels open, so that culvert -N gets
	# the echo back and then a clean end.
	start_proxy PA halfclose
	start_proxy PB halfclose
	end_setup_file
	BYTES="$BATS_FILE_TMPDIR/bytes.bin"
	"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' \
	    >"$BYTES"
	export BYTES
}

setup() {
	require_culvert
	clean_env
	URL_A="http://127.0.0.1:$PA_PORT"
	URL_B="http://127.0.0.1:$PB_PORT"
}

# echo_to HOST [ARGS...]: bytes 0-255 to the echo target at HOST with
# culvert -N ARGS; sets A_SAW and B_SAW, the connections each fake proxy
# accepted during the run.
echo_to() {
	local host=$1 a0 b0
	shift
	a0=$(proxy_connections PA) || fail "proxy A does not answer"
	b0=$(proxy_connections PB) || fail "proxy B does not answer"
	run_culvert -N "$@" "$host" "$ECHO_PORT" <"$BYTES"
	A_SAW=$(($(proxy_connections PA) - a0))
	B_SAW=$(($(proxy_connections PB) - b0))
}

# assert_echoed: the run ended cleanly and the bytes came back exactly.
assert_echoed() {
	assert_equal "$status" 0
	cmp "$BYTES" "$OUT"
}

# assert_through A|B|none: which proxy saw the run's connection.
assert_through() {
	case $1 in
	A) assert_equal "$A_SAW/$B_SAW" 1/0 ;;
	B) assert_equal "$A_SAW/$B_SAW" 0/1 ;;
	none) assert_equal "$A_SAW/$B_SAW" 0/0 ;;
	esac
}

# alone_works VAR: VAR alone (set to proxy A) carries the tunnel, and -v
# names VAR as the source.
alone_works() {
	export "$1=$URL_A"
	echo_to 127.0.0.1 -v
	assert_echoed
	assert_through A
	assert_all_culvert_lines
	assert_regex "$stderr" "proxy http://127\.0\.0\.1:$PA_PORT \(from $1\)"
}

# earlier_wins EARLIER LATER: EARLIER (proxy A) beats LATER (proxy B).
earlier_wins() {
	export "$1=$URL_A" "$2=$URL_B"
	echo_to 127.0.0.1 -v
	assert_echoed
	assert_through A
	assert_regex "$stderr" "\(from $1\)"
}

## the order, one variable at a time #######################################

@test "CULVERT_PROXY alone sends the tunnel through that proxy" {
	alone_works CULVERT_PROXY
}

@test "https_proxy alone sends the tunnel through that proxy" {
	alone_works https_proxy
}

@test "HTTPS_PROXY alone sends the tunnel through that proxy" {
	alone_works HTTPS_PROXY
}

@test "all_proxy alone sends the tunnel through that proxy" {
	alone_works all_proxy
}

@test "ALL_PROXY alone sends the tunnel through that proxy" {
	alone_works ALL_PROXY
}

@test "http_proxy alone sends the tunnel through that proxy" {
	alone_works http_proxy
}

@test "HTTP_PROXY alone sends the tunnel through that proxy" {
	alone_works HTTP_PROXY
}

@test "CULVERT_PROXY wins over https_proxy" {
	earlier_wins CULVERT_PROXY https_proxy
}

@test "https_proxy wins over HTTPS_PROXY" {
	earlier_wins https_proxy HTTPS_PROXY
}

@test "HTTPS_PROXY wins over all_proxy" {
	earlier_wins HTTPS_PROXY all_proxy
}

@test "all_proxy wins over ALL_PROXY" {
	earlier_wins all_proxy ALL_PROXY
}

@test "ALL_PROXY wins over http_proxy" {
	earlier_wins ALL_PROXY http_proxy
}

@test "http_proxy wins over HTTP_PROXY" {
	earlier_wins http_proxy HTTP_PROXY
}

@test "with every variable set CULVERT_PROXY wins" {
	local v
	for v in "${PROXY_VARS[@]}"; do
		export "$v=$URL_B"
	done
	export CULVERT_PROXY=$URL_A
	echo_to 127.0.0.1
	assert_echoed
	assert_through A
}

@test "an empty variable counts as unset and the next one is used" {
	export CULVERT_PROXY= https_proxy= HTTPS_PROXY= all_proxy= ALL_PROXY=
	export http_proxy=$URL_A HTTP_PROXY=$URL_B
	echo_to 127.0.0.1 -v
	assert_echoed
	assert_through A
	assert_regex "$stderr" "\(from http_proxy\)"
}

@test "every proxy variable empty is the same as no proxy: exit 2" {
	local v
	for v in "${PROXY_VARS[@]}"; do
		export "$v="
	done
	echo_to 127.0.0.1
	assert_equal "$status" 2
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_through none
}

@test "HTTP_PROXY is ignored when REQUEST_METHOD is set (httpoxy)" {
	export REQUEST_METHOD=GET HTTP_PROXY=$URL_A
	echo_to 127.0.0.1
	assert_equal "$status" 2
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_through none
}

@test "http_proxy still works when REQUEST_METHOD is set" {
	export REQUEST_METHOD=GET http_proxy=$URL_A
	echo_to 127.0.0.1
	assert_echoed
	assert_through A
}

@test "--proxy beats every proxy variable and -v says so" {
	local v
	for v in "${PROXY_VARS[@]}"; do
		export "$v=$URL_B"
	done
	echo_to 127.0.0.1 -v -p "$URL_A"
	assert_echoed
	assert_through A
	assert_regex "$stderr" "\(from --proxy\)"
}

@test "a proxy variable without a scheme means http://" {
	export https_proxy="127.0.0.1:$PA_PORT"
	echo_to 127.0.0.1 -v
	assert_echoed
	assert_through A
	assert_regex "$stderr" "proxy http://127\.0\.0\.1:$PA_PORT \(from https_proxy\)"
	grep -q "^CONNECT 127.0.0.1:$ECHO_PORT HTTP/1.1" "$PA_LOG" ||
	    fail "proxy A's log has no CONNECT line: $(cat "$PA_LOG")"
}

@test "user and password in a proxy variable are percent-decoded" {
	# us@er / p:w%d, written the way a URL must carry them.
	export http_proxy="http://us%40er:p%3Aw%25d@127.0.0.1:$PA_PORT"
	local want
	want=$(printf '%s' 'us@er:p:w%d' | base64)
	echo_to 127.0.0.1
	assert_echoed
	assert_through A
	# The log holds every run's requests; the last one is this run's.
	local last
	last=$(awk 'BEGIN { RS = "\r\n\r\n" } NF { h = $0 } END { print h }' \
	    "$PA_LOG")
	[[ $last == *"Proxy-Authorization:"* ]] ||
	    fail "no Proxy-Authorization in the request: $last"
	assert_equal "$(grep -i '^Proxy-Authorization:' <<<"$last" | tr -d '\r')" \
	    "Proxy-Authorization: Basic $want"
}

## NO_PROXY ################################################################

@test "a target in no_proxy connects directly: the proxy sees nothing and data flows" {
	export http_proxy=$URL_A no_proxy=127.0.0.1
	echo_to 127.0.0.1
	assert_echoed
	assert_equal "$stderr" ""
	assert_through none
}

@test "a target in NO_PROXY connects directly: the proxy sees nothing and data flows" {
	export https_proxy=$URL_A NO_PROXY=127.0.0.1
	echo_to 127.0.0.1
	assert_echoed
	assert_equal "$stderr" ""
	assert_through none
}

@test "a target not in NO_PROXY still goes through the proxy" {
	export http_proxy=$URL_A NO_PROXY="192.0.2.1,example.com,10.0.0.0/8"
	echo_to 127.0.0.1
	assert_echoed
	assert_through A
}

@test "NO_PROXY=* sends every target directly" {
	export http_proxy=$URL_A NO_PROXY='*'
	echo_to 127.0.0.1
	assert_echoed
	assert_through none
}

@test "a .localhost entry matches the name localhost" {
	export http_proxy=$URL_A NO_PROXY=.localhost
	echo_to localhost
	assert_echoed
	assert_through none
}

@test "a name entry matches only whole labels: 'host' does not match localhost" {
	export http_proxy=$URL_A NO_PROXY=host,.host
	echo_to localhost
	assert_echoed
	assert_through A
}

@test "a .example suffix entry does not match a literal 127.0.0.1 target" {
	export http_proxy=$URL_A NO_PROXY=.example,.0.0.1
	echo_to 127.0.0.1
	assert_echoed
	assert_through A
}

@test "a CIDR range in NO_PROXY matches a literal target inside it" {
	export http_proxy=$URL_A NO_PROXY=127.0.0.0/8
	echo_to 127.0.0.1
	assert_echoed
	assert_through none
}

@test "a CIDR range in NO_PROXY does not match a literal target outside it" {
	export http_proxy=$URL_A NO_PROXY=127.0.0.0/32,10.0.0.0/8
	echo_to 127.0.0.1
	assert_echoed
	assert_through A
}

@test "a NO_PROXY entry with the target's port connects directly" {
	export http_proxy=$URL_A NO_PROXY="127.0.0.1:$ECHO_PORT"
	echo_to 127.0.0.1
	assert_echoed
	assert_through none
}

@test "a NO_PROXY entry with another port still goes through the proxy" {
	export http_proxy=$URL_A NO_PROXY="127.0.0.1:1"
	echo_to 127.0.0.1
	assert_echoed
	assert_through A
}

@test "NO_PROXY matching is case-insensitive and ignores whitespace" {
	export http_proxy=$URL_A NO_PROXY="  example.org ,  LOCALHOST  "
	echo_to localhost
	assert_echoed
	assert_through none
}

@test "--no-proxy replaces the environment's list" {
	export http_proxy=$URL_A NO_PROXY=127.0.0.1 no_proxy=127.0.0.1
	echo_to 127.0.0.1 --no-proxy example.com
	assert_echoed
	assert_through A
}

@test "--no-proxy also applies to a proxy given with --proxy" {
	echo_to 127.0.0.1 -p "$URL_A" --no-proxy 127.0.0.1
	assert_echoed
	assert_through none
}

@test "NO_PROXY also applies to a proxy given with --proxy" {
	export NO_PROXY=127.0.0.1
	echo_to 127.0.0.1 -p "$URL_A"
	assert_echoed
	assert_through none
}

@test "a malformed NO_PROXY entry is ignored without a word" {
	export http_proxy=$URL_A NO_PROXY="10.0.0.0/33,127.0.0.1"
	echo_to 127.0.0.1
	assert_echoed
	assert_equal "$stderr" ""
	assert_through none
}

@test "under -v a malformed NO_PROXY entry gets a warning and the rest still works" {
	export http_proxy=$URL_A NO_PROXY="10.0.0.0/33,127.0.0.1"
	echo_to 127.0.0.1 -v
	assert_echoed
	assert_through none
	assert_all_culvert_lines
	assert_regex "$stderr" '10\.0\.0\.0/33'
}

@test "a NO_PROXY of only malformed entries still uses the proxy" {
	export http_proxy=$URL_A NO_PROXY="10.0.0.0/33,foo..bar"
	echo_to 127.0.0.1
	assert_echoed
	assert_equal "$stderr" ""
	assert_through A
}

## no proxy at all #########################################################

@test "with no proxy anywhere culvert exits 2 naming --proxy and https_proxy" {
	run_culvert 127.0.0.1 "$ECHO_PORT" </dev/null
	assert_equal "$status" 2
	assert_equal "$OUT_SIZE" 0
	assert_one_culvert_line
	assert_regex "$stderr" '--proxy'
	assert_regex "$stderr" 'https_proxy'
}
