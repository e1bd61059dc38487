# servers.bash: real daemons from Debian on loopback, for culvert's tests.
#
# Load it after common.bash (load test_helper/servers).  Every start_*
# function:
#   - picks a free 127.0.0.1 port at run time (bind port 0 in python, release
#     it), writes the daemon's own config into a private directory, and
#     starts the daemon in the foreground with setsid (its own process group,
#     fds 3+ closed so bats does not wait on it), output to a log file there;
#   - waits, polling with a deadline, until that very process listens on the
#     port (checked with ss, so a port taken by someone else in between is
#     never mistaken for ours), and starts again on a new port when the
#     daemon died (port collision) -- at most SERVERS_TRIES times;
#   - exports NAME_PORT, NAME_PID, NAME_DIR and NAME_LOG, where NAME is the
#     component (TINYPROXY, SQUID, SSHD, DANTED, MICROSOCKS, TLSFRONT) or
#     the value of --name, so one file can run several instances.
# servers_stop_all stops every daemon by PID,
# deletes throwaway system users and removes the state directory; the
# teardown_file defined here (replacing common.bash's) calls it.  Nothing
# in /etc is touched except danted's throwaway user (useradd/userdel), and
# /run/sshd is created if missing because sshd refuses to start without it.
#
# State lives under a directory made with mktemp in /tmp, mode 0755, not in
# BATS_FILE_TMPDIR: squid and its auth helpers run as user proxy and danted's
# children as nobody, and bats' temporary directories are readable by root
# only.

SERVERS_TRIES=${SERVERS_TRIES:-5}
SERVERS_START_TIMEOUT=${SERVERS_START_TIMEOUT:-15}

# servers_dir: create the state directory once per file; exports SERVERS_DIR.
servers_dir() {
	if [[ -z ${SERVERS_DIR:-} || ! -d $SERVERS_DIR ]]; then
		SERVERS_DIR=$(mktemp -d /tmp/culvert-servers.XXXXXX) || return 1
		chmod 0755 "$SERVERS_DIR"
		: >"$SERVERS_DIR/pids"
		: >"$SERVERS_DIR/users"
		export SERVERS_DIR
	fi
}

# _servers_now_us: wall clock in microseconds.
_servers_now_us() {
	local t=$EPOCHREALTIME
	echo "${t/./}"
}

# servers_alive PID: true while PID runs (a zombie counts as dead).
servers_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# servers_listening PID PORT: true when process PID listens on TCP PORT.
servers_listening() {
	ss -Hltnp "sport = :$2" 2>/dev/null | grep -q "pid=$1,"
}

# _servers_wait_ready PID PORT: 0 when PID listens on PORT, 1 when PID died
# first, 2 when the deadline passed.
_servers_wait_ready() {
	local pid=$1 port=$2 deadline
	deadline=$(($(_servers_now_us) + SERVERS_START_TIMEOUT * 1000000))
	while (($(_servers_now_us) < deadline)); do
		servers_listening "$pid" "$port" && return 0
		servers_alive "$pid" || return 1
		sleep 0.05
	done
	return 2
}

# servers_stop PID...: SIGTERM to each, wait up to 10 s for all, SIGKILL
# those left; then SIGKILL whatever remains in their process groups
# (helpers, children: setsid made each PID the leader of its own group).
servers_stop() {
	local pid deadline alive
	local -a pids=()
	for pid in "$@"; do
		[[ $pid =~ ^[0-9]+$ ]] && pids+=("$pid")
	done
	for pid in "${pids[@]}"; do
		servers_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	deadline=$(($(_servers_now_us) + 10000000))
	while (($(_servers_now_us) < deadline)); do
		alive=
		for pid in "${pids[@]}"; do
			servers_alive "$pid" && alive=1 && break
		done
		[[ -z $alive ]] && break
		sleep 0.05
	done
	for pid in "${pids[@]}"; do
		servers_alive "$pid" && kill -KILL "$pid" 2>/dev/null
		kill -KILL -- "-$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	return 0
}

# servers_stop_all: stop every daemon started here, delete throwaway users,
# remove the state directory.  Safe to call twice or when nothing started.
servers_stop_all() {
	local user
	[[ -n ${SERVERS_DIR:-} && -d $SERVERS_DIR ]] || return 0
	# shellcheck disable=SC2046 # one PID per line
	servers_stop $(cat "$SERVERS_DIR/pids")
	while read -r user; do
		[[ -n $user ]] && userdel "$user" 2>/dev/null
	done <"$SERVERS_DIR/users"
	rm -rf "$SERVERS_DIR"
	unset SERVERS_DIR
	return 0
}

# Every file that loads this one: daemons first, then the helpers that
# common.bash started.
teardown_file() {
	servers_stop_all
	common_teardown_file
}

# _servers_export NAME KEY VALUE: export NAME_KEY=VALUE.
_servers_export() {
	printf -v "$1_$2" '%s' "$3"
	export "${1?}_$2"
}

# _servers_run NAME WRITE_CONFIG CMD...: start CMD (after WRITE_CONFIG PORT
# DIR has written its config) until it listens on a fresh port.  In CMD and
# WRITE_CONFIG the words @PORT@ and @DIR@ are replaced.  Exports
# NAME_PORT/PID/DIR/LOG.  On failure prints the daemon's log to stderr.
_servers_run() {
	local name=$1 writer=$2 dir log port pid try rc word
	shift 2
	servers_dir || return 1
	dir=$SERVERS_DIR/${name,,}
	mkdir -p "$dir" && chmod 0755 "$dir"
	log=$dir/log
	for ((try = 1; try <= SERVERS_TRIES; try++)); do
		port=$(free_port) || return 1
		"$writer" "$port" "$dir" || return 1
		local -a argv=()
		for word in "$@"; do
			word=${word//@PORT@/$port}
			argv+=("${word//@DIR@/$dir}")
		done
		: >"$log"
		setsid "${argv[@]}" </dev/null >>"$log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >>"$SERVERS_DIR/pids"
		_servers_wait_ready "$pid" "$port"
		rc=$?
		if ((rc == 0)); then
			_servers_export "$name" PORT "$port"
			_servers_export "$name" PID "$pid"
			_servers_export "$name" DIR "$dir"
			_servers_export "$name" LOG "$log"
			return 0
		fi
		servers_stop "$pid"
		((rc == 2)) && break
	done
	echo "servers.bash: $1 did not start listening on 127.0.0.1:$port:" >&2
	sed 's/^/  | /' "$log" >&2
	return 1
}

# _servers_parse_name DEFAULT ARGS...: sets _srv_name from a leading
# "--name NAME" and _srv_shift to the number of words it used.
_servers_parse_name() {
	_srv_name=$1
	_srv_shift=0
	if [[ ${2:-} == --name ]]; then
		_srv_name=${3^^}
		_srv_shift=2
	fi
}

## tinyproxy ###############################################################

# start_tinyproxy [--name NAME] PORT...: tinyproxy allowing CONNECT only to
# the given ports (ConnectPort); any other port gets "403 Access violation".
# With no ports it allows only 443.
start_tinyproxy() {
	_servers_parse_name TINYPROXY "$@"
	shift "$_srv_shift"
	_tinyproxy_ports=("${@:-443}")
	_servers_run "$_srv_name" _tinyproxy_config \
		tinyproxy -d -c @DIR@/tinyproxy.conf
}

_tinyproxy_config() {
	local port=$1 dir=$2 p
	{
		echo "Port $port"
		echo "Listen 127.0.0.1"
		echo "Timeout 120"
		echo "LogLevel Info"
		echo "PidFile \"$dir/tinyproxy.pid\""
		echo "MaxClients 100"
		echo "Allow 127.0.0.1"
		echo "DisableViaHeader Yes"
		for p in "${_tinyproxy_ports[@]}"; do
			echo "ConnectPort $p"
		done
	} >"$dir/tinyproxy.conf"
}

## squid ###################################################################

# start_squid [--name NAME] [--basic USER PASS]... [--digest USER PASS]...
#             [--ntlm] [--realm REALM] [--deny-connect] [--] PORT...
# squid 5 without cache, allowing CONNECT from localhost only to the given
# ports (others: 403 Forbidden, checked before authentication).  With
# --basic (basic_ncsa_auth, $apr1$ hashes from openssl), --digest
# (digest_file_auth -c, user:realm:HA1 lines) or --ntlm (ntlm_fake_auth,
# accepts any user and password) every request must authenticate; squid
# offers the schemes in the order the options first appear (e.g. --ntlm
# --basic u p: NTLM and Basic together).  Realm defaults to "culvert-test".
# --deny-connect refuses every CONNECT (403) but lets plain requests
# (GET, POST) through to any port, as a proxy that forbids tunnels does.
# Runs as root in the foreground (-N) with cache_effective_user proxy.
start_squid() {
	_servers_parse_name SQUID "$@"
	shift "$_srv_shift"
	_squid_schemes=()
	_squid_basic=()
	_squid_digest=()
	_squid_realm=culvert-test
	_squid_deny_connect=0
	while (($#)); do
		case $1 in
		--basic | --digest)
			(($# >= 3)) || { echo "start_squid: $1 USER PASS" >&2; return 2; }
			[[ " ${_squid_schemes[*]} " == *" ${1#--} "* ]] ||
				_squid_schemes+=("${1#--}")
			if [[ $1 == --basic ]]; then
				_squid_basic+=("$2" "$3")
			else
				_squid_digest+=("$2" "$3")
			fi
			shift 3
			;;
		--ntlm)
			[[ " ${_squid_schemes[*]} " == *" ntlm "* ]] ||
				_squid_schemes+=(ntlm)
			shift
			;;
		--realm)
			_squid_realm=$2
			shift 2
			;;
		--deny-connect)
			_squid_deny_connect=1
			shift
			;;
		--)
			shift
			break
			;;
		*) break ;;
		esac
	done
	_squid_ports=("${@:-443}")
	_servers_run "$_srv_name" _squid_config \
		squid -N -f @DIR@/squid.conf
}

_squid_config() {
	local port=$1 dir=$2 i scheme
	{
		echo "http_port 127.0.0.1:$port"
		echo "visible_hostname culvert-test"
		echo "pid_filename $dir/squid.pid"
		echo "cache_log stdio:$dir/cache.log"
		echo "access_log stdio:$dir/access.log"
		echo "cache_store_log none"
		echo "coredump_dir $dir"
		echo "netdb_filename none"
		echo "pinger_enable off"
		echo "cache deny all"
		echo "cache_mem 8 MB"
		echo "cache_effective_user proxy"
		echo "cache_effective_group proxy"
		echo "shutdown_lifetime 1 second"
		echo "acl culvert_ports port ${_squid_ports[*]}"
		for scheme in "${_squid_schemes[@]}"; do
			case $scheme in
			basic)
				echo "auth_param basic program /usr/lib/squid/basic_ncsa_auth $dir/basic.passwd"
				echo "auth_param basic children 3"
				echo "auth_param basic realm $_squid_realm"
				;;
			digest)
				echo "auth_param digest program /usr/lib/squid/digest_file_auth -c $dir/digest.passwd"
				echo "auth_param digest children 3"
				echo "auth_param digest realm $_squid_realm"
				;;
			ntlm)
				echo "auth_param ntlm program /usr/lib/squid/ntlm_fake_auth"
				echo "auth_param ntlm children 3"
				echo "auth_param ntlm keep_alive on"
				;;
			esac
		done
		if ((_squid_deny_connect)); then
			echo "http_access deny CONNECT"
		fi
		echo "http_access deny CONNECT !culvert_ports"
		echo "http_access deny !localhost"
		if ((${#_squid_schemes[@]})); then
			echo "acl culvert_auth proxy_auth REQUIRED"
			echo "http_access allow culvert_auth"
		else
			echo "http_access allow localhost"
		fi
		echo "http_access deny all"
	} >"$dir/squid.conf"
	: >"$dir/basic.passwd"
	for ((i = 0; i < ${#_squid_basic[@]}; i += 2)); do
		printf '%s:%s\n' "${_squid_basic[i]}" \
			"$(printf '%s\n' "${_squid_basic[i + 1]}" |
				openssl passwd -apr1 -stdin)" >>"$dir/basic.passwd" || return 1
	done
	: >"$dir/digest.passwd"
	for ((i = 0; i < ${#_squid_digest[@]}; i += 2)); do
		"$PYTHON" -c 'import hashlib, sys
u, r, p = (a.encode("utf-8", "surrogateescape") for a in sys.argv[1:])
sys.stdout.buffer.write(u + b":" + r + b":" +
    hashlib.md5(u + b":" + r + b":" + p).hexdigest().encode() + b"\n")' \
			"${_squid_digest[i]}" "$_squid_realm" "${_squid_digest[i + 1]}" \
			>>"$dir/digest.passwd" || return 1
	done
	chmod 0644 "$dir"/*.passwd
	# squid drops to user proxy before it writes logs and removes its pid.
	chown -R proxy:proxy "$dir"
}

## sshd ####################################################################

# start_sshd [--name NAME]: sshd on 127.0.0.1 with a throwaway ed25519 host
# key and a client key authorized for root (public key only, no PAM).
# Exports NAME_CLIENT_KEY, NAME_KNOWN_HOSTS and NAME_SSH (a client wrapper
# script, see below) besides the usual.
start_sshd() {
	_servers_parse_name SSHD "$@"
	shift "$_srv_shift"
	# sshd's privilege separation directory is compiled in; Debian's
	# service creates it at boot, a container may not have it.
	mkdir -p -m 0755 /run/sshd || return 1
	_servers_run "$_srv_name" _sshd_config \
		/usr/sbin/sshd -D -e -f @DIR@/sshd_config || return 1
	local dir=${SERVERS_DIR}/${_srv_name,,} port_var=${_srv_name}_PORT
	_sshd_client_script "$dir" "${!port_var}"
	_servers_export "$_srv_name" CLIENT_KEY "$dir/client_key"
	_servers_export "$_srv_name" KNOWN_HOSTS "$dir/known_hosts"
	_servers_export "$_srv_name" SSH "$dir/ssh"
}

_sshd_config() {
	local port=$1 dir=$2
	if [[ ! -f $dir/host_key ]]; then
		ssh-keygen -q -t ed25519 -N '' -C culvert-test-host \
			-f "$dir/host_key" || return 1
		ssh-keygen -q -t ed25519 -N '' -C culvert-test-client \
			-f "$dir/client_key" || return 1
		cp "$dir/client_key.pub" "$dir/authorized_keys"
		: >"$dir/known_hosts"
	fi
	cat >"$dir/sshd_config" <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $dir/host_key
		PidFile $dir/sshd.pid
		AuthorizedKeysFile $dir/authorized_keys
		StrictModes no
		UsePAM no
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		X11Forwarding no
		PrintMotd no
		MaxStartups 50
		LogLevel VERBOSE
	EOF
}

# NAME_SSH (e.g. $SSHD_SSH) is a small script that runs the ssh client for
# this sshd: no user config, its own key and known_hosts, never prompts, and
# -p NAME_PORT.  Add -o ProxyCommand=... yourself; as it is a file, it works
# under timeout: timeout 60 "$SSHD_SSH" -o ProxyCommand=... root@127.0.0.1 cmd
_sshd_client_script() {
	local dir=$1 port=$2
	cat >"$dir/ssh" <<-EOF
		#!/bin/sh
		exec ssh -F /dev/null -i '$dir/client_key' -o IdentitiesOnly=yes \\
		    -o UserKnownHostsFile='$dir/known_hosts' \\
		    -o StrictHostKeyChecking=no -o BatchMode=yes -o LogLevel=ERROR \\
		    -o ConnectTimeout=20 -p $port "\$@"
	EOF
	chmod 0755 "$dir/ssh"
}

# sshd_run PROXYCOMMAND ARGS...: ssh as root to the throwaway sshd with
# PROXYCOMMAND, plus the ssh options in the array SSH_EXTRA_OPTS when it
# is set (e.g. -o ProxyUseFdpass=yes); stdio is the caller's.
sshd_run() {
	local pc=$1
	shift
	timeout 60 "$SSHD_SSH" ${SSH_EXTRA_OPTS[@]+"${SSH_EXTRA_OPTS[@]}"} \
	    -o ProxyCommand="$pc" root@127.0.0.1 "$@"
}

# sshd_command_runs PROXYCOMMAND: a remote echo works, nothing on stderr.
# shellcheck disable=SC2154 # status, output and stderr come from bats run
sshd_command_runs() {
	run --separate-stderr sshd_run "$1" 'echo hello'
	assert_equal "$status" 0
	assert_equal "$output" hello
	assert_equal "$stderr" ""
}

# sshd_round_trip PROXYCOMMAND SIZE: upload SIZE random bytes with 'cat >',
# download another SIZE with 'cat', compare sha256 on both ends (sshd runs
# here, so the remote files are local files too).
sshd_round_trip() {
	local pc=$1 size=$2
	local up="$BATS_TEST_TMPDIR/up.bin" down_src="$BATS_TEST_TMPDIR/down.src"
	local arrived="$BATS_TEST_TMPDIR/up.arrived"
	local down="$BATS_TEST_TMPDIR/down.bin" remote_sha
	head -c "$size" /dev/urandom >"$up"
	head -c "$size" /dev/urandom >"$down_src"

	sshd_run "$pc" "cat > '$arrived'" <"$up" ||
	    fail "upload through '$pc' failed with status $?"
	remote_sha=$(sshd_run "$pc" "sha256sum < '$arrived'" </dev/null |
	    cut -d' ' -f1)
	assert_equal "$remote_sha" "$(sha256sum <"$up" | cut -d' ' -f1)"

	sshd_run "$pc" "cat '$down_src'" </dev/null >"$down" ||
	    fail "download through '$pc' failed with status $?"
	assert_equal "$(stat -c %s "$down")" "$size"
	assert_equal "$(sha256sum <"$down" | cut -d' ' -f1)" \
	    "$(sha256sum <"$down_src" | cut -d' ' -f1)"
}

## danted ##################################################################

# start_danted [--name NAME] [--auth PASSWORD]: dante SOCKS server on
# 127.0.0.1, no authentication, or with --auth RFC 1929 username/password
# (socksmethod username, checked against the system's passwords: a
# throwaway user is created with useradd/chpasswd and exported as
# NAME_USER, NAME_PASSWORD; servers_stop_all deletes it).  Connections to
# port 1 are blocked by the ruleset ("not allowed by ruleset").
start_danted() {
	_servers_parse_name DANTED "$@"
	shift "$_srv_shift"
	_danted_method=none
	if [[ ${1:-} == --auth ]]; then
		local user
		servers_dir || return 1
		user=culvt$$${RANDOM}
		useradd -M -N -s /usr/sbin/nologin -d /nonexistent "$user" ||
			return 1
		echo "$user" >>"$SERVERS_DIR/users"
		printf '%s:%s\n' "$user" "$2" | chpasswd || return 1
		_servers_export "$_srv_name" USER "$user"
		_servers_export "$_srv_name" PASSWORD "$2"
		_danted_method=username
	fi
	_servers_run "$_srv_name" _danted_config \
		danted -f @DIR@/danted.conf -p @DIR@/danted.pid
}

_danted_config() {
	local port=$1 dir=$2
	cat >"$dir/danted.conf" <<-EOF
		logoutput: stderr
		internal: 127.0.0.1 port = $port
		external: lo
		clientmethod: none
		socksmethod: $_danted_method
		user.privileged: root
		user.unprivileged: nobody
		client pass { from: 127.0.0.0/8 to: 0/0 }
		socks block { from: 0/0 to: 0/0 port = 1 log: error }
		socks pass { from: 127.0.0.0/8 to: 0/0 log: error }
	EOF
}

## microsocks ##############################################################

# start_microsocks [--name NAME] [--auth USER PASS]: microsocks SOCKS5 on
# 127.0.0.1, no authentication or RFC 1929 username/password.
start_microsocks() {
	_servers_parse_name MICROSOCKS "$@"
	shift "$_srv_shift"
	local -a auth=()
	if [[ ${1:-} == --auth ]]; then
		auth=(-u "$2" -P "$3")
		_servers_export "$_srv_name" USER "$2"
		_servers_export "$_srv_name" PASSWORD "$3"
	fi
	_servers_run "$_srv_name" _microsocks_config \
		microsocks -i 127.0.0.1 -p @PORT@ "${auth[@]}"
}

_microsocks_config() {
	return 0
}

## socat TLS front end #####################################################

# start_tls_front [--name NAME] BACKEND_PORT: socat accepting TLS on
# 127.0.0.1 and passing each connection on to 127.0.0.1:BACKEND_PORT, the
# front end of a proxy that speaks TLS only.  Its certificate is a
# throwaway self-signed one made with openssl req, valid for the name
# "localhost" only (not for the address 127.0.0.1).  Exports NAME_CERT
# (the certificate, for --proxy-cacert or openssl -CAfile) besides the
# usual.
start_tls_front() {
	_servers_parse_name TLSFRONT "$@"
	shift "$_srv_shift"
	_servers_run "$_srv_name" _tls_front_config \
		socat "OPENSSL-LISTEN:@PORT@,bind=127.0.0.1,reuseaddr,fork,verify=0,cert=@DIR@/front.pem" \
		"TCP:127.0.0.1:$1" || return 1
	_servers_export "$_srv_name" CERT "$SERVERS_DIR/${_srv_name,,}/cert.pem"
}

_tls_front_config() {
	local dir=$2
	[[ -f $dir/front.pem ]] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost \
		2>/dev/null || return 1
	cat "$dir/key.pem" "$dir/cert.pem" >"$dir/front.pem"
	chmod 0600 "$dir/front.pem" "$dir/key.pem"
}
