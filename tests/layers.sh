#!/bin/sh
# The layer rules of src/ (see README.md, "Development"): the pure layers,
# proto/, auth/, route/ and crypto/, compute only.  They never call socket
# or file I/O, never log and never exit: a failure is a struct failure for
# the caller to map.  Prints each breach as FILE:LINE: text and exits 1 if
# there is any.
set -u
cd "$(dirname "$0")/.." || exit 2

calls='socket|connect|bind|listen|accept|accept4|send|sendto|sendmsg|recv'
calls="$calls|recvfrom|recvmsg|read|write|pread|pwrite|readv|writev|open"
calls="$calls|openat|close|fopen|fdopen|fclose|fread|fwrite|fgets|fputs|puts"
calls="$calls|printf|fprintf|vfprintf|dprintf|perror|poll|select|splice"
calls="$calls|pipe|pipe2|fork|execl|execlp|execv|execvp|system|popen"
calls="$calls|getaddrinfo|gethostbyname|setsockopt|getsockopt|ioctl|fcntl"
calls="$calls|exit|_exit|abort|log_[a-z_]+|fatalx?"

# Strip comments and string literals, then look for calls.
bad=$(for f in src/proto/*.[ch] src/auth/*.[ch] src/route/*.[ch] \
    src/crypto/*.[ch]; do
	sed -e 's|/\*.*\*/||g' -e 's|"[^"]*"|""|g' "$f" |
	    awk -v f="$f" -v re="(^|[^A-Za-z0-9_.>])($calls)[ \t]*\\(" '
		/\/\*/ { c = 1 }
		!c && $0 ~ re { print f ":" NR ": " $0 }
		/\*\// { c = 0 }'
done)
[ -z "$bad" ] && exit 0
echo "layers: a pure layer (proto, auth, route, crypto) does I/O, logs or exits:" >&2
printf '%s\n' "$bad" >&2
exit 1
