#!/bin/sh
# Install what the test suite needs, with apt-get, when it is missing.
# Runs as root on Debian 12 with no standard input (CI).
set -eu

# make demo needs only a compiler and python3 (for the echo target).
if [ "${1:-}" = demo ]; then
	pkgs="gcc libc6-dev python3"
else
	pkgs="bats bats-assert bats-support tinyproxy squid openssh-server
openssh-client python3 mandoc dante-server microsocks zsh fish procps
psmisc iproute2 make gcc libc6-dev strace socat openssl curl"
fi

missing=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "culvert: tests need these packages:$missing (run make check as root, or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null
