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
            case -p --proxy -t --timeout -H --header -U --proxy-user --auth-file --no-proxy --proxy-auth --proxy-cacert --proxy-command
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
