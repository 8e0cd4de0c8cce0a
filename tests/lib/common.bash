# Helpers for the socks5d bats tests.  Load with:  load lib/common
#
# Daemons and helper servers are named; starting one exports NAME_PORT,
# NAME_PID, NAME_LOG (and NAME_PORT6 with --v6).  Everything started from
# setup_file is stopped by cleanup_file (teardown_file), everything started
# inside a test by cleanup_test (teardown); processes are always ended by
# their pid, with a bounded wait.  Every wait loop here is bounded.

HELPERS="$BATS_TEST_DIRNAME/helpers"
# Debian's own python3 (contrib/deps.sh installs it) rather than whatever
# python3 the PATH finds first: a version manager's shim (pyenv) costs
# 100-450 ms per start, and the suite starts the helpers a few thousand
# times.  The helpers need nothing beyond the standard library and
# Debian's python3-gssapi.
if [ -z "${PY:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
fi
: "${SOCKS5D:=build/socks5d}"
case $SOCKS5D in
/*) ;;
*) if [ -e "$PWD/$SOCKS5D" ]; then SOCKS5D="$PWD/$SOCKS5D";
   else SOCKS5D="$BATS_TEST_DIRNAME/../$SOCKS5D"; fi ;;
esac
export SOCKS5D
# No proxy settings from the environment may leak into curl or ncat.
unset http_proxy https_proxy all_proxy no_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY NO_PROXY

# plain_segv: for a daemon a test sends SIGSEGV on purpose (a crash whose
# handling it checks).  In a SANITIZE=1 build the runtime would catch the
# signal, report it as a finding (tests/sanitize.sh) and exit 1 instead of
# dying of it; handle_segv=0 lets it die as in production.  Only ASan reads
# the variable.
plain_segv() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
	export ASAN_OPTIONS
}

# fail MSG...: print to stderr (bats shows it when the test fails), return 1.
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	return 1
}

assert_eq() { # ACTUAL EXPECTED [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

assert_match() { # STRING ERE [WHAT]
	[[ $1 =~ $2 ]] || fail "${3:-value}: '$1' does not match /$2/"
}

# field KEY [TEXT]: the value of the first KEY=... line of TEXT ($output).
field() {
	local k=$1 text=${2-$output} line
	while IFS= read -r line; do
		case $line in
		"$k="*) printf '%s\n' "${line#*=}"; return 0 ;;
		esac
	done <<<"$text"
	return 1
}

# assert_field KEY VALUE: $output has KEY=VALUE as its first KEY line.
assert_field() {
	local v
	v=$(field "$1") || fail "no '$1=' line in output: $output" || return 1
	[ "$v" = "$2" ] || fail "$1: expected '$2', got '$v' (output: $output)"
}

# _scope: the directory that records what the current scope started.
_scope() {
	if [ -n "${BATS_TEST_TMPDIR:-}" ]; then
		printf '%s\n' "$BATS_TEST_TMPDIR"
	else
		printf '%s\n' "$BATS_FILE_TMPDIR"
	fi
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds, at most
# SECONDS; returns CMD's last status.  CMD's stdout is discarded (a poll
# prints nothing); run CMD again afterwards for its output.
wait_until() {
	local limit=$1 i=0
	shift
	while ! "$@" >/dev/null; do
		i=$((i + 1))
		[ $i -ge $((limit * 10)) ] && return 1
		sleep 0.1
	done
}

free_port() { # [ADDR]
	"$PY" -c 'import socket,sys
a=sys.argv[1]
s=socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.bind((a,0)); print(s.getsockname()[1])' "${1:-127.0.0.1}"
}

# alive PID: PID is a child of this shell that has not exited.  (Bash reaps
# its children on its own, so a pid alone may already name someone else's
# process: the parent check keeps every wait and kill to our own.)  Reads
# /proc/PID/stat directly: no fork, nothing that can fail under load.
alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }                   # after "(comm) ": STATE PPID ...
	set -- $st
	[ "$1" != Z ] && [ "$1" != X ] && [ "$2" = "$BASHPID" ]
}

# alive_socks5d PID: PID is a live socks5d process (any parent), for the
# workers and helpers of a daemon that has gone.
alive_socks5d() {
	local st args
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	args=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[ "${st%% *}" != Z ] && [[ $args == *socks5d* ]]
}

# kill_pid PID [SECONDS]: SIGTERM, bounded wait, SIGKILL -- only if PID is
# still a live child of this shell.  A bg job that runs a shell function
# (socks, up, ...) is a subshell whose child is the real client: a TERM to
# the subshell alone would orphan that client and leave its session open,
# so a subshell's own children are sent the signal first.  Only a
# subshell's: a daemon's children (its audit logger, above all) must be
# left to the daemon's own orderly stop.
kill_pid() {
	local pid=$1 limit=${2:-5} kids= comm=
	alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
	read -r comm 2>/dev/null <"/proc/$pid/comm" || comm=
	if [ "$comm" = bash ]; then
		kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null) || kids=
	fi
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$kids" ] && kill -TERM $kids 2>/dev/null
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until "$limit" eval "! alive $pid"; then
		# shellcheck disable=SC2086
		[ -n "$kids" ] && kill -KILL $kids 2>/dev/null
		alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
	fi
	wait_until 5 eval "! alive $pid" || true
	wait "$pid" 2>/dev/null || true
	return 0
}

# write_conf FILE [LINE...]: a test configuration; without LINEs it permits
# everything.  SOCKS5_NEGTIMEOUT and SOCKS5_SHUTDOWN_GRACE are short unless a
# LINE sets them (first LINEs win where the daemon honours the first set).
write_conf() {
	local f=$1
	shift
	{
		echo "# socks5d bats test configuration"
		local l have_neg= have_grace=
		for l in "$@"; do
			case $l in
			*SOCKS5_NEGTIMEOUT*) have_neg=1 ;;
			*SOCKS5_SHUTDOWN_GRACE*) have_grace=1 ;;
			esac
		done
		[ -n "$have_neg" ] || echo "set SOCKS5_NEGTIMEOUT 2"
		[ -n "$have_grace" ] || echo "set SOCKS5_SHUTDOWN_GRACE 3"
		if [ $# -eq 0 ]; then
			echo "permit - - - - - -"
		else
			printf '%s\n' "$@"
		fi
	} >"$f"
}

# _listening [NS] PORT...: every PORT has a TCP listener (in netns NS).
_listening() {
	local ns=$1 p
	shift
	for p in "$@"; do
		if [ -n "$ns" ]; then
			[ -n "$(ip netns exec "$ns" ss -Hltn "sport = :$p")" ] || return 1
		else
			[ -n "$(ss -Hltn "sport = :$p")" ] || return 1
		fi
	done
}

# daemon_start NAME CONF [--v6] [--ns NETNS] [--port PORT] [-- ARGS...]
# Starts $SOCKS5D -f CONF -l 127.0.0.1:PORT [-l [::1]:PORT6] ARGS... in the
# background (stderr and stdout to NAME_LOG) and waits until it listens.
# A port lost to a race (exit 3) is retried with another one.
daemon_start() {
	local name=$1 conf=$2 v6= ns= port= try pid port6 dir
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--v6) v6=1 ;;
		--ns) ns=$2; shift ;;
		--port) port=$2; shift ;;
		--) shift; break ;;
		*) fail "daemon_start: bad option $1"; return 1 ;;
		esac
		shift
	done
	[ -x "$SOCKS5D" ] || { fail "no daemon binary at $SOCKS5D"; return 1; }
	dir=$(_scope)
	local log="$dir/$name.log"
	local nsexec=()
	[ -n "$ns" ] && nsexec=(ip netns exec "$ns")
	for try in 1 2 3; do
		local p=${port:-$("${nsexec[@]}" "$PY" -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
		local args=(-f "$conf" -l "127.0.0.1:$p")
		port6=
		if [ -n "$v6" ]; then
			port6=$(free_port ::1)
			args+=(-l "[::1]:$port6")
		fi
		echo "== start: $SOCKS5D ${args[*]} $*" >>"$log"
		"${nsexec[@]}" "$SOCKS5D" "${args[@]}" "$@" >>"$log" 2>&1 3>&- &
		pid=$!
		if wait_until 10 eval "! alive $pid || _listening '$ns' $p $port6"; then
			if alive "$pid"; then
				printf -v "${name}_PID" %s "$pid"
				printf -v "${name}_PORT" %s "$p"
				printf -v "${name}_PORT6" %s "$port6"
				printf -v "${name}_LOG" %s "$log"
				printf -v "${name}_NS" %s "$ns"
				export "${name}_PID" "${name}_PORT" "${name}_PORT6" \
				    "${name}_LOG" "${name}_NS"
				echo "$pid" >>"$dir/.daemons"
				return 0
			fi
		fi
		local rc=0
		if alive "$pid"; then
			kill_pid "$pid" 1
			rc="none (alive but not listening after 10 s)"
		else
			wait "$pid" 2>/dev/null || rc=$?
		fi
		echo "== exit status $rc" >>"$log"
		if [ "$rc" != 3 ] || [ -n "$port" ]; then
			fail "daemon $name did not start (exit $rc); log:"
			tail -n 30 "$log" >&2
			return 1
		fi
	done
	fail "daemon $name: no free port after 3 tries"
}

# daemon_children PID: the pids of the daemon's direct children.
daemon_children() {
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '
}

# daemon_tree PID: the pids of every descendant of the daemon (helpers,
# the forker, workers: the forker's children are the master's grandchildren).
daemon_tree() {
	local c
	for c in $(daemon_children "$1"); do
		echo "$c"
		daemon_tree "$c"
	done
}

# daemon_stop PID [SECONDS]: SIGTERM, wait, SIGKILL; then end any of its
# descendants left behind (by pid).
daemon_stop() {
	local pid=$1 kids
	kids=$(daemon_tree "$pid")
	kill_pid "$pid" "${2:-10}"
	local k
	for k in $kids; do
		if alive_socks5d "$k"; then
			kill -KILL "$k" 2>/dev/null || true
		fi
	done
	return 0
}

# server_start NAME MODE [servers.py options]: a helper server on
# 127.0.0.1 (or --bind ::1); exports NAME_PORT and NAME_PID.
server_start() {
	local name=$1 mode=$2 dir pid
	shift 2
	dir=$(_scope)
	local pf="$dir/$name.port"
	rm -f "$pf"
	"$PY" "$HELPERS/servers.py" "$mode" --port-file "$pf" "$@" \
	    >>"$dir/$name.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$dir/.pids"
	wait_until 10 test -s "$pf" ||
	    { fail "helper server $name ($mode) did not start"; cat "$dir/$name.log" >&2; return 1; }
	printf -v "${name}_PORT" %s "$(cat "$pf")"
	printf -v "${name}_PID" %s "$pid"
	export "${name}_PORT" "${name}_PID"
}

# bg NAME CMD...: run CMD in the background with output to $(_scope)/NAME.out;
# its pid is recorded for cleanup and exported as NAME_BGPID.
bg() {
	local name=$1 dir
	shift
	dir=$(_scope)
	"$@" >"$dir/$name.out" 2>&1 3>&- &
	echo "$!" >>"$dir/.pids"
	printf -v "${name}_BGPID" %s "$!"
	export "${name}_BGPID"
}

# bg_wait NAME [SECONDS]: wait (bounded) for a bg job; output= its output,
# status= its exit status (124 if it had to be killed).
bg_wait() {
	local name=$1 limit=${2:-30} pidv="${1}_BGPID"
	local pid=${!pidv}
	status=0
	if ! wait_until "$limit" eval "! alive $pid"; then
		if alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
		status=124
	else
		wait "$pid" || status=$?
	fi
	output=$(cat "$(_scope)/$name.out")
	_forget "$pid"
}

# _forget PID: PID has been reaped; cleanup must not touch it again.
_forget() {
	local f
	for f in "$(_scope)/.pids" "$(_scope)/.daemons"; do
		[ -f "$f" ] || continue
		grep -vx "$1" "$f" >"$f.new" || true
		mv "$f.new" "$f"
	done
}

_cleanup_dir() {
	local dir=$1 p
	if [ -f "$dir/.pids" ]; then
		for p in $(cat "$dir/.pids"); do
			kill_pid "$p" 2
		done
		rm -f "$dir/.pids"
	fi
	if [ -f "$dir/.daemons" ]; then
		for p in $(cat "$dir/.daemons"); do
			daemon_stop "$p" 10
		done
		rm -f "$dir/.daemons"
	fi
}

cleanup_test() {
	# Shown by bats only when the test failed.
	local l
	for l in "$BATS_TEST_TMPDIR"/*.log "$BATS_TEST_TMPDIR"/*.out "$BATS_FILE_TMPDIR"/*.log; do
		[ -s "$l" ] || continue
		echo "--- tail of $(basename "$l")"
		tail -n 15 "$l"
	done
	_cleanup_dir "$BATS_TEST_TMPDIR"
}

cleanup_file() {
	_cleanup_dir "$BATS_FILE_TMPDIR"
}

# start CONF-LINES...: the test's own daemon D, configured with these lines
# (write_conf) and auditing to $AUDIT in the test's directory.
start() {
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "$@"
	AUDIT="$BATS_TEST_TMPDIR/audit.jsonl"
	daemon_start D "$BATS_TEST_TMPDIR/socks5.conf" -- -a "$AUDIT"
}

# socks ARGS...: the raw SOCKS client (tests/helpers/socksclient.py).
socks() {
	"$PY" "$HELPERS/socksclient.py" "$@"
}

multiclient() {
	"$PY" "$HELPERS/multiclient.py" "$@"
}

# curl_socks ARGS...: curl bounded in time, quiet but with errors.
curl_socks() {
	curl -sS --max-time 60 --connect-timeout 10 "$@"
}

# assert_serves PORT ECHOHASH_PORT: the daemon on 127.0.0.1:PORT still
# relays a full SOCKS5 session.
assert_serves() {
	local out
	out=$(socks -p "127.0.0.1:$1" -d 127.0.0.1 -P "$2" send:still-alive shutdown recv) ||
	    { fail "daemon no longer serves: $out"; return 1; }
	local want
	want="$(printf 'still-alive' | sha256sum | cut -d' ' -f1) 11\\n"
	[ "$(field recv-text "$out")" = "$want" ] ||
	    fail "daemon no longer relays: $out"
}

# hashline TEXT: what an echohash server answers for TEXT, with the newline
# written as \n (as socksclient.py prints recv-text).
hashline() {
	printf '%s %d\\n' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)" "${#1}"
}

# sha FILE: the sha256 hex of FILE.
sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# make_www DIR: a document root with index.html (unique content).
make_www() {
	mkdir -p "$1"
	printf '<html><body>socks5d test page %s</body></html>\n' \
	    "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >"$1/index.html"
}

# audit_records FILE [KEY VALUE]...: the lines of the audit FILE whose JSON
# object has every KEY equal to VALUE (compared as strings).
audit_records() {
	"$PY" -c 'import json,sys
f, kv = sys.argv[1], sys.argv[2:]
want = dict(zip(kv[0::2], kv[1::2]))
for line in open(f):
    try: r = json.loads(line)
    except ValueError: continue
    if isinstance(r, dict) and all(str(r.get(k)) == v for k, v in want.items()):
        print(line, end="")' "$@"
}

# audit_count FILE [KEY VALUE]...: how many records match.
audit_count() {
	audit_records "$@" | wc -l | tr -d ' '
}

# jfields JSON: one KEY=VALUE line per field of the JSON object (strings as
# they are, other values as JSON), for use with field/assert_field.
jfields() {
	"$PY" -c 'import json,sys
r = json.loads(sys.argv[1])
for k, v in r.items():
    print("%s=%s" % (k, v if isinstance(v, str) else json.dumps(v)))' "$1"
}

# audit_validate FILE: every line is one JSON object with the fields every
# record has (ts as UTC with milliseconds, event); prints the bad lines.
audit_validate() {
	"$PY" -c 'import json,re,sys
bad = 0
n = 0
for i, line in enumerate(open(sys.argv[1], "rb"), 1):
    n += 1
    why = None
    try:
        r = json.loads(line)
        if not isinstance(r, dict):
            why = "not an object"
        elif not line.endswith(b"\n"):
            why = "no newline"
        elif "preexisting" in r:
            pass
        elif not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(r.get("ts"))):
            why = "bad ts"
        elif not isinstance(r.get("event"), str):
            why = "no event"
    except ValueError as e:
        why = str(e)
    if why:
        bad += 1
        print("line %d: %s: %r" % (i, why, line[:300]))
print("lines=%d bad=%d" % (n, bad))
sys.exit(1 if bad or not n else 0)' "$1"
}

# worker_of ADDR: the pid of the worker serving the client ADDR (its title).
# No fork per process: under load a scan with one tr per /proc entry took
# longer than the sessions it looked for.
worker_of() {
	local f title
	for f in /proc/[0-9]*/cmdline; do
		# The title is one string followed by NUL padding.
		title=
		{ IFS= read -r -d '' title <"$f"; } 2>/dev/null
		if [ "$title" = "socks5d: worker $1" ]; then
			f=${f#/proc/}
			echo "${f%/cmdline}"
			return 0
		fi
	done
	return 1
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() {
	local st
	read -r st <"/proc/$1/stat" || return 1
	st=${st##*) }
	set -- $st
	echo $((${12} + ${13}))
}
