#!/bin/sh
# make demo: a real tunnel on loopback.  Starts culvert serve as the
# CONNECT proxy (allowed to reach loopback only) and an echo server on
# ports picked at run time, sends data through culvert with -v, shows
# that it came back intact, and stops everything.
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
tport=$(waitport "$dir/target" "echo server")
# A free port for culvert serve; it says so when it listens.
pport=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
./culvert serve --listen "127.0.0.1:$pport" --allow '127.0.0.0/8:*' \
    2>"$dir/serve.log" 3>&- &
pids="$pids $!"
i=0
until grep -q 'serving on' "$dir/serve.log"; do
	i=$((i + 1))
	[ "$i" -le 100 ] || { echo "demo: culvert serve did not start:" >&2
	    cat "$dir/serve.log" >&2; exit 1; }
	sleep 0.05
done

echo "== an echo server on 127.0.0.1:$tport, culvert serve as the proxy on 127.0.0.1:$pport"
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
echo "== the same server carries a session in HTTP requests (for proxies that forbid CONNECT):"
printf '%s\n' "== \$ printf 'hello through a session\\n' | culvert -N --tunnel http://127.0.0.1:$pport/ --tunnel-transport http 127.0.0.1 $tport"
printf 'hello through a session\n' |
    timeout 10 ./culvert -N --tunnel "http://127.0.0.1:$pport/" \
    --tunnel-transport http 127.0.0.1 "$tport"
echo "== what culvert serve logged:"
sed 's/^/   /' "$dir/serve.log"
if [ "$sent" = "$got" ]; then
	echo "== the tunnel works."
else
	echo "== MISMATCH" >&2
	exit 1
fi
