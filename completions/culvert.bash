# bash completion for culvert(1)                              -*- shell-script -*-

_culvert_hosts()
{
	local -a hosts
	local f
	# Names from ~/.ssh/known_hosts (hashed entries are skipped) and the
	# system's host list.
	for f in ~/.ssh/known_hosts /etc/ssh/ssh_known_hosts; do
		[[ -r $f ]] || continue
		hosts+=($(awk '$1 !~ /^[|#@]/ { n = split($1, a, ",");
		    for (i = 1; i <= n; i++) { h = a[i];
		    sub(/^\[/, "", h); sub(/\]:[0-9]+$/, "", h); print h } }' "$f"))
	done
	COMPREPLY=($(compgen -W "${hosts[*]}" -A hostname -- "$1"))
}

_culvert()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -n =: || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local opts="-4 -6 -H --header -h --help -N --shutdown -p --proxy
	    -q --quiet -t --timeout -U --proxy-user -V --version -v --verbose
	    --auth-file --check --fdpass --no-proxy --no-splice --proxy-auth
	    --proxy-cacert --proxy-command -L --listen -D --dynamic -c --config
	    --allow-from --syslog --tunnel --tunnel-transport --resume-timeout
	    --keepalive --token-file"
	local serve_opts="--listen --allow --allow-file --token-file
	    --insecure-no-token --resume-timeout --poll-timeout --max-sessions
	    --syslog -v --verbose -q --quiet -h --help"

	# culvert serve: its own options, no operands.
	if [[ ${words[1]:-} == serve && $cword -gt 1 ]]; then
		case $prev in
		--allow-file|--token-file)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			;;
		--listen|--allow|--resume-timeout|--poll-timeout|--max-sessions)
			COMPREPLY=()
			;;
		*)
			COMPREPLY=($(compgen -W "$serve_opts" -- "$cur"))
			;;
		esac
		return
	fi

	# --opt=value, whether or not '=' split the word
	if [[ $prev == = && $cword -ge 2 ]]; then
		prev=${words[cword-2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi

	case $prev in
	-p|--proxy)
		compopt -o nospace 2>/dev/null
		COMPREPLY=($(compgen -W "http:// https:// socks4:// socks4a://
		    socks5:// socks5h:// direct" -- "$cur"))
		# ':' splits words in bash; drop the part before it
		if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
			__ltrim_colon_completions "$cur"
		fi
		return
		;;
	--proxy-auth)
		COMPREPLY=($(compgen -W "basic digest ntlm any" -- "$cur"))
		return
		;;
	--auth-file|--proxy-cacert|-c|--config|--token-file)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--no-proxy)
		_culvert_hosts "$cur"
		return
		;;
	--proxy-command)
		COMPREPLY=($(compgen -c -- "$cur"))
		return
		;;
	--tunnel-transport)
		COMPREPLY=($(compgen -W "auto stream http" -- "$cur"))
		return
		;;
	-t|--timeout|-H|--header|-U|--proxy-user|-L|--listen|-D|--dynamic|\
	--allow-from|--tunnel|--resume-timeout|--keepalive)
		# free-form value: nothing to offer
		COMPREPLY=()
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi

	# Count the operands given so far: the first is HOST, the second PORT.
	local i nargs=0 skip=0
	for ((i = 1; i < cword; i++)); do
		if ((skip)); then
			skip=0
			continue
		fi
		case ${words[i]} in
		-p|--proxy|-t|--timeout|-H|--header|-U|--proxy-user|\
		--auth-file|--no-proxy|--proxy-auth|--proxy-cacert|\
		--proxy-command|-L|--listen|-D|--dynamic|-c|--config|\
		--allow-from|--tunnel|--tunnel-transport|--resume-timeout|\
		--keepalive|--token-file)
			skip=1 ;;
		-*) ;;
		*) nargs=$((nargs + 1)) ;;
		esac
	done
	if ((nargs == 0)); then
		_culvert_hosts "$cur"
		((cword == 1)) && COMPREPLY+=($(compgen -W serve -- "$cur"))
	fi
	# PORT: nothing to offer.
}
complete -F _culvert culvert
