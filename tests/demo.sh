#!/bin/sh
# make demo: a real tunnel on loopback.  Starts the test suite's CONNECT
# proxy and an echo server on ports the kernel picks, sends data through
# culvert with -v, shows that it came back intact, and stops everything.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d "${TMPDIR:-/tmp}/culvert-demo.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

waitport() {	# poll for a port file, five seconds at most
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ "$i" -le 100 ] || { echo "demo: $2 did not start" >&2; exit 1; }
		sleep 0.05
	done
	cat "$1"
}

python3 tests/helpers/target.py --port-file "$dir/target" echo 3>&- &
pids="$pids $!"
python3 tests/helpers/fakeproxy.py --port-file "$dir/proxy" \
    --script halfclose 3>&- &
pids="$pids $!"
tport=$(waitport "$dir/target" "echo server")
pport=$(waitport "$dir/proxy" "proxy")

echo "== an echo server on 127.0.0.1:$tport, a CONNECT proxy on 127.0.0.1:$pport"
printf '%s\n' "== \$ printf 'hello through the tunnel\\n' | culvert -v -N -p http://127.0.0.1:$pport 127.0.0.1 $tport"
printf 'hello through the tunnel\n' |
    timeout 10 ./culvert -v -N -p "http://127.0.0.1:$pport" 127.0.0.1 "$tport"

echo "== 10 MB of random bytes there and back, compared by SHA-256:"
head -c 10000000 /dev/urandom >"$dir/data"
timeout 30 ./culvert -q -N -p "http://127.0.0.1:$pport" 127.0.0.1 "$tport" \
    <"$dir/data" >"$dir/back"
sent=$(sha256sum <"$dir/data" | cut -c1-64)
got=$(sha256sum <"$dir/back" | cut -c1-64)
echo "   sent     $sent"
echo "   received $got"
if [ "$sent" = "$got" ]; then
	echo "== the tunnel works."
else
	echo "== MISMATCH" >&2
	exit 1
fi
