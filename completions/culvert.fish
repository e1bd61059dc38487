# fish completion for culvert(1)

# True while HOST, the first operand, has not been given yet.
function __culvert_needs_host
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for t in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $t
            case -p --proxy -t --timeout -H --header -U --proxy-user --auth-file --no-proxy --proxy-auth --proxy-cacert --proxy-command -L --listen -D --dynamic -c --config --allow-from --tunnel --tunnel-transport --resume-timeout --keepalive --token-file
                set skip 1
            case '-*'
            case '*'
                return 1
        end
    end
    return 0
end

complete -c culvert -f
complete -c culvert -n __culvert_needs_host -a '(__fish_print_hostnames)' -d Host

complete -c culvert -s 4 -d 'Reach the proxy over IPv4 only'
complete -c culvert -s 6 -d 'Reach the proxy over IPv6 only'
complete -c culvert -s H -l header -x -d 'Add a header to the CONNECT request'
complete -c culvert -s h -l help -d 'Print a summary of the options and exit'
complete -c culvert -s N -l shutdown -d 'Shut down the socket for writing on stdin EOF'
complete -c culvert -s p -l proxy -x -d 'Proxy URL; again for a chain, URL|URL|direct for fallbacks' \
    -a 'http:// https:// socks4:// socks4a:// socks5:// socks5h:// direct'
complete -c culvert -s q -l quiet -d 'Print errors only'
complete -c culvert -s t -l timeout -x -d 'Seconds for the tunnel to come up (0: none)'
complete -c culvert -s U -l proxy-user -x -d 'Proxy USER[:PASSWORD]'
complete -c culvert -s V -l version -d 'Print the version and exit'
complete -c culvert -s v -l verbose -d 'Report steps; twice for the request and response heads'
complete -c culvert -l auth-file -r -F -d 'Read user:password from a file'
complete -c culvert -l check -d 'Report every step of opening the tunnel and exit; relay nothing'
complete -c culvert -l fdpass -d 'Pass the connected socket to ssh over stdout'
complete -c culvert -l no-proxy -x -a '(__fish_print_hostnames)' -d 'Targets to reach directly; replaces NO_PROXY'
complete -c culvert -l no-splice -d 'Always use the read/write relay'
complete -c culvert -l proxy-auth -x -a 'basic digest ntlm any' -d 'Proxy authentication scheme'
complete -c culvert -l proxy-cacert -r -F -d 'CA certificates for an https:// proxy'
complete -c culvert -l proxy-command -x -a '(__fish_complete_command)' -d 'Reach the first proxy through a command'
complete -c culvert -n 'not __fish_seen_subcommand_from serve' -s L -l listen -x -d 'Forward a local [BIND:]PORT to HOST PORT through the proxy'
complete -c culvert -n 'not __fish_seen_subcommand_from serve' -s D -l dynamic -x -d 'A local SOCKS5/SOCKS4a/CONNECT proxy on [BIND:]PORT'
complete -c culvert -n 'not __fish_seen_subcommand_from serve' -s c -l config -r -F -d 'Listeners and proxies from a file'
complete -c culvert -n 'not __fish_seen_subcommand_from serve' -l allow-from -x -d 'Client addresses a listener serves'
complete -c culvert -l syslog -d 'Listen mode and serve: log to syslog'
complete -c culvert -n 'not __fish_seen_subcommand_from serve' -l tunnel -x -d 'Reach HOST PORT through culvert serve at a URL'
complete -c culvert -n 'not __fish_seen_subcommand_from serve' -l tunnel-transport -x -a 'auto stream http' -d 'How to carry the session'
complete -c culvert -l resume-timeout -x -d 'Seconds to resume a session'
complete -c culvert -n 'not __fish_seen_subcommand_from serve' -l keepalive -x -d 'Quiet seconds before a keep-alive'
complete -c culvert -l token-file -r -F -d 'The token of culvert serve'

# culvert serve
complete -c culvert -n __culvert_needs_host -a serve -d 'Run the server end and a CONNECT proxy'
complete -c culvert -n '__fish_seen_subcommand_from serve' -l listen -x -d 'Where to listen, [BIND:]PORT'
complete -c culvert -n '__fish_seen_subcommand_from serve' -l allow -x -d 'A target that may be reached'
complete -c culvert -n '__fish_seen_subcommand_from serve' -l allow-file -r -F -d 'More allow rules'
complete -c culvert -n '__fish_seen_subcommand_from serve' -l insecure-no-token -d 'Listen beyond loopback without a token'
complete -c culvert -n '__fish_seen_subcommand_from serve' -l poll-timeout -x -d 'Longest wait of a GET or a POST'
complete -c culvert -n '__fish_seen_subcommand_from serve' -l max-sessions -x -d 'Sessions at once'
