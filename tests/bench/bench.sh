#!/bin/sh
# make bench: socks5d side by side with Dante's sockd and microsocks, plus
# plain TCP as the no-proxy reference.  Called by tests/bench/bench.mk after
# it has built build/bench/socksbench (and, if it can, build/socks5d and
# build/bench/bench_rules); run from the top of the tree, as root.
#
# Each run of each server gets a fresh network namespace holding the server,
# the destination servers and the clients, so no run inherits another's
# TIME_WAIT sockets or ports, and nothing leaves loopback.  The servers are
# run A B C D A B C D ..., and the table shows the median of BENCH_RUNS runs.
#
#   BENCH_RUNS=N     runs per server (default 3; 1 with BENCH_QUICK=1)
#   BENCH_QUICK=1    short windows and small counts: checks the harness
#                    in about a minute, figures are rough
#
# Output: the table on stdout and in $BUILD/bench.txt; per-run values and
# logs in $BUILD/bench/run/.
set -u
# The whole script is one brace group, so the shell parses all of it before
# running any: editing or checking out this file during a 10-minute run
# cannot change what the run executes (sh reads scripts as it goes).
{
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	RUNS=${BENCH_RUNS:-1}
	TP_SECS=1 TP_WARM=0.5 C1=500 C32=2000 HOLD=200 FB=100 SETTLE=1 FLOOR_N=200
else
	RUNS=${BENCH_RUNS:-3}
	TP_SECS=4 TP_WARM=1 C1=3000 C32=20000 HOLD=1000 FB=500 SETTLE=2 FLOOR_N=1000
fi
TOP=$(pwd)
SB=$TOP/$BUILD/bench/socksbench
S5D=$TOP/$BUILD/socks5d
RULES=$TOP/$BUILD/bench/bench_rules
FLOOR=$TOP/$BUILD/bench/forkfloor
OUT=$BUILD/bench.txt
WORK=$BUILD/bench/run
PROXY=127.0.0.1:1080
SINK=127.0.0.1:5001
SOURCE=127.0.0.1:5002
ECHO=127.0.0.1:5003
NSPREFIX=sbench$$

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, Dante's privileged user)"
[ -x "$SB" ] || die "$SB missing: run make bench"
command -v ip >/dev/null || die "needs iproute2 (ip netns)"

# The peers come from Debian: bench.mk's deps-bench has installed what it
# could (contrib/deps.sh bench); a server still missing is skipped below.

rm -rf "$WORK"
mkdir -p "$WORK/res" "$WORK/logs"
: >"$WORK/notes"
: >"$WORK/namespaces"

note() {
	echo "bench: $*" >&2
	echo "$*" >>"$WORK/notes"
}

# Held sessions need descriptors on every side.  Not higher: Dante sizes
# its select() sets from this limit.  (ulimit -n: dash and bash have it.)
# shellcheck disable=SC3045
ulimit -n 65536 2>/dev/null || ulimit -n 16384 2>/dev/null ||
	note "could not raise ulimit -n (now $(ulimit -n 2>&1)); holding $HOLD sessions may fail"

# ns_kill NS: end every process in a namespace this script created (they
# are all ours: servers, destinations, clients), then delete it.
ns_kill() {
	pids=$(ip netns pids "$1" 2>/dev/null)
	# shellcheck disable=SC2086 # one argument per pid
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	ip netns del "$1" 2>/dev/null
}

# shellcheck disable=SC2317 # called from the traps
cleanup() {
	while read -r ns; do
		ns_kill "$ns"
	done <"$WORK/namespaces"
	: >"$WORK/namespaces"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# --- server configurations --------------------------------------------------
cat >"$WORK/socks5.conf" <<EOF
set SOCKS5_MAXCHILD 4096
set SOCKS5_TIMEOUT 0
permit - - - - - -
EOF

# Dante: one listen address, outgoing connections from 127.0.0.1, no
# authentication, everything allowed.  Errors only, to a file.
cat >"$WORK/danted.conf" <<EOF
logoutput: $TOP/$WORK/logs/danted.log
internal: 127.0.0.1 port = 1080
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
EOF

# Chained rows: the same servers one hop further.  socks5d chains with a
# socks5 line; Dante with its route statement (server chaining, Dante 1.4).
UPSTREAM=127.0.0.1:1081
cat >"$WORK/socks5-chain.conf" <<EOF
set SOCKS5_MAXCHILD 4096
set SOCKS5_TIMEOUT 0
socks5 - - $UPSTREAM
permit - - - - - -
EOF
sed "s/port = 1080/port = 1081/; s|danted.log|danted-up.log|" \
    "$WORK/danted.conf" >"$WORK/danted-up.conf"
sed "s|danted.log|danted-chain.log|" "$WORK/danted.conf" >"$WORK/danted-chain.conf"
cat >>"$WORK/danted-chain.conf" <<EOF
route { from: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = 1081
    proxyprotocol: socks_v5 }
EOF

SERVERS=
if [ -x "$S5D" ]; then
	SERVERS="socks5d"
else
	note "socks5d: $BUILD/socks5d not built; its column is n/a"
fi
if command -v danted >/dev/null; then
	SERVERS="$SERVERS sockd"
else
	note "sockd: danted not installed; its column is n/a"
fi
if command -v microsocks >/dev/null; then
	SERVERS="$SERVERS microsocks"
else
	note "microsocks: not installed; its column is n/a"
fi
SERVERS="$SERVERS direct"
case " $SERVERS " in *" socks5d "*) SERVERS="$SERVERS s5chain" ;; esac
case " $SERVERS " in *" sockd "*) SERVERS="$SERVERS dchain" ;; esac

# step NS RESFILE PREFIX CAP ARGS...: run one socksbench client in NS and
# append its key=value lines to RESFILE as PREFIX_key=value.  CAP seconds is
# the client's own limit; timeout(1) is only the backstop.
step() {
	_ns=$1 _res=$2 _pfx=$3 _cap=$4
	shift 4
	timeout -k 5 $((_cap + 20)) ip netns exec "$_ns" "$SB" "$@" \
	    --max-seconds "$_cap" 2>>"$WORK/logs/${_res##*/}.err" |
	    sed "s/^/${_pfx}_/" >>"$_res"
}

# bench_one SERVER RUN: every figure for one server in a fresh namespace.
bench_one() {
	srv=$1 run=$2
	ns=$NSPREFIX-$srv-$run
	res=$WORK/res/$srv.$run
	log=$WORK/logs/$srv.$run.log
	: >"$res"
	ip netns add "$ns" || { note "$srv run $run: ip netns add failed"; return 1; }
	echo "$ns" >>"$WORK/namespaces"
	ip -n "$ns" link set lo up

	for d in "serve-sink $SINK" "serve-source $SOURCE" "serve-echo $ECHO"; do
		# shellcheck disable=SC2086
		ip netns exec "$ns" "$SB" $d --max-seconds 1800 2>>"$log" &
	done
	for a in $SINK $SOURCE $ECHO; do
		ip netns exec "$ns" "$SB" wait "$a" --max-seconds 10 ||
			{ note "$srv run $run: destination $a did not start"; ns_kill "$ns"; wait; return 1; }
	done

	spid= upid=
	case $srv in
	# The audit file is on, as in a real deployment, for every socks5d.
	s5chain)
		ip netns exec "$ns" "$S5D" -f "$TOP/$WORK/socks5.conf" -l $UPSTREAM \
		    -a "$TOP/$WORK/logs/audit-up.$run.jsonl" >>"$log" 2>&1 & upid=$!
		ip netns exec "$ns" "$S5D" -f "$TOP/$WORK/socks5-chain.conf" -l $PROXY \
		    -a "$TOP/$WORK/logs/audit.$run.jsonl" >>"$log" 2>&1 & spid=$! ;;
	dchain)
		ip netns exec "$ns" danted -f "$TOP/$WORK/danted-up.conf" >>"$log" 2>&1 & upid=$!
		ip netns exec "$ns" danted -f "$TOP/$WORK/danted-chain.conf" >>"$log" 2>&1 & spid=$! ;;
	socks5d) ip netns exec "$ns" "$S5D" -f "$TOP/$WORK/socks5.conf" -l $PROXY \
	    -a "$TOP/$WORK/logs/audit.$run.jsonl" >>"$log" 2>&1 & spid=$! ;;
	sockd) ip netns exec "$ns" danted -f "$TOP/$WORK/danted.conf" >>"$log" 2>&1 & spid=$! ;;
	microsocks) ip netns exec "$ns" microsocks -i 127.0.0.1 -p 1080 >>"$log" 2>&1 & spid=$! ;;
	esac
	if [ -n "$spid" ]; then
		pargs="--proxy $PROXY"
		pid_arg="--server-pid $spid"
		# shellcheck disable=SC2086 # $pargs is two words
		if { [ -n "$upid" ] && ! ip netns exec "$ns" "$SB" wait $UPSTREAM --max-seconds 10 2>>"$log"; } ||
		    ! ip netns exec "$ns" "$SB" wait $PROXY --max-seconds 10 2>>"$log" ||
		    ! ip netns exec "$ns" "$SB" sessions $pargs --dest $ECHO \
		        --count 3 --timeout-ms 3000 --max-seconds 10 >/dev/null 2>>"$log"; then
			note "$srv run $run: does not relay a CONNECT session (see $log)"
			ns_kill "$ns"
			wait 2>/dev/null
			return 1
		fi
	else
		pargs='' pid_arg=''
	fi
	echo "bench: run $run/$RUNS: $srv" >&2

	# Memory first, while the namespace is new: the TIME_WAIT sockets the
	# session tests leave would expire during a later hold and shrink the
	# slab under it.  The pause lets the previous namespace's teardown (it
	# frees sockets asynchronously) finish.
	sleep 2
	# A chain's memory and first reply are not compared: the figures would
	# be the front server's alone.
	# shellcheck disable=SC2086
	[ -z "$upid" ] && step "$ns" "$res" hold 90 hold $pargs --dest $ECHO \
	    --count $HOLD --settle $SETTLE $pid_arg
	if [ -n "$spid" ] && [ -z "$upid" ]; then
		# shellcheck disable=SC2086
		step "$ns" "$res" fb 60 firstbyte $pargs --count $FB
	fi
	for t in "up1 $SINK 1" "up8 $SINK 8" "down1 $SOURCE 1 --download" \
	    "down8 $SOURCE 8 --download"; do
		# shellcheck disable=SC2086
		set -- $t
		name=$1 dest=$2 n=$3
		shift 3
		# shellcheck disable=SC2086
		step "$ns" "$res" "tp_$name" 60 throughput $pargs --dest "$dest" \
		    --streams "$n" --seconds $TP_SECS --warmup $TP_WARM $pid_arg "$@"
	done
	# shellcheck disable=SC2086
	step "$ns" "$res" c1 90 sessions $pargs --dest $ECHO --concurrency 1 \
	    --count $C1
	# Server CPU over the c=32 run: the tree's utime+stime, children
	# reaped included (treestat), before and after.
	cpu0= flt0=
	if [ -n "$spid" ]; then
		st=$("$SB" treestat --server-pid "$spid" 2>/dev/null)
		cpu0=$(echo "$st" | sed -n 's/^cpu_s=//p')
		flt0=$(echo "$st" | sed -n 's/^faults=//p')
	fi
	# shellcheck disable=SC2086
	step "$ns" "$res" c32 120 sessions $pargs --dest $ECHO --concurrency 32 \
	    --count $C32
	if [ -n "$cpu0" ]; then
		sleep 1   # the last workers exit and are reaped
		st=$("$SB" treestat --server-pid "$spid" 2>/dev/null)
		cpu1=$(echo "$st" | sed -n 's/^cpu_s=//p')
		flt1=$(echo "$st" | sed -n 's/^faults=//p')
		ok=$(sed -n 's/^c32_ok=//p' "$res")
		[ -n "$cpu1" ] && [ "${ok:-0}" -gt 0 ] &&
			awk -v a="$cpu0" -v b="$cpu1" -v n="$ok" \
			    'BEGIN { printf "c32_cpu_ms=%.3f\n", (b - a) * 1000 / n }' >>"$res"
		# Page faults of the whole tree, reaped workers included.
		[ -n "$flt0" ] && [ -n "$flt1" ] && [ "${ok:-0}" -gt 0 ] &&
			awk -v a="$flt0" -v b="$flt1" -v n="$ok" \
			    'BEGIN { printf "c32_faults=%.1f\n", (b - a) / n }' >>"$res"
	fi

	# CPU per GiB over all four throughput windows of this run.
	if [ -n "$spid" ]; then
		awk -F= '/^tp_.*_cpu_s=/ { c += $2; n++ } /^tp_.*_bytes=/ { b += $2 }
		    END { if (b > 0 && n > 0) printf "cpu_s_per_gib=%.3f\n", c / (b / 1073741824) }' \
		    "$res" >"$res.cpu"
		cat "$res.cpu" >>"$res"
		rm -f "$res.cpu"
	fi

	if [ -n "$spid" ]; then
		kill -0 "$spid" 2>/dev/null ||
			note "$srv run $run: the server exited during the run (see $log)"
		kill -TERM "$spid" 2>/dev/null
		i=0
		while kill -0 "$spid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -0 "$spid" 2>/dev/null && note "$srv run $run: still running 5 s after SIGTERM"
	fi
	[ -n "$upid" ] && kill -TERM "$upid" 2>/dev/null
	ns_kill "$ns"
	wait 2>/dev/null
	sed -i "/^$ns\$/d" "$WORK/namespaces"
}

# floor RUN: the cost of a bare process on this host, in this run: one
# fork+exit+wait loop, one loop per core at once, posix_spawn+exec+wait.
floor() {
	_res=$WORK/res/floor.$1
	: >"$_res"
	[ -x "$FLOOR" ] || { note "forkfloor not built: no floor rows"; return; }
	timeout 120 "$FLOOR" fork "$FLOOR_N" | sed 's/^/floor_/' >>"$_res"
	[ -x "$FLOOR-dyn" ] && timeout 120 "$FLOOR-dyn" fork "$FLOOR_N" |
	    sed 's/^fork_us=/floor_fork_dyn_us=/' >>"$_res"
	timeout 120 "$FLOOR" par "$(nproc)" "$FLOOR_N" | sed 's/^/floor_/' >>"$_res"
	timeout 120 "$FLOOR" spawn "$FLOOR_N" | sed 's/^/floor_/' >>"$_res"
	timeout 120 "$FLOOR" pages "$FLOOR_N" | sed 's/^/floor_/' >>"$_res"
}

start=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ $r -le "$RUNS" ]; do
	floor $r
	for s in $SERVERS; do
		bench_one "$s" $r
	done
	r=$((r + 1))
done
elapsed=$(($(date +%s) - start))

# --- report -------------------------------------------------------------------
versions() {
	[ -x "$S5D" ] && echo "  socks5d:    $("$S5D" -V 2>&1 | head -n 1), forkers $(
	    if grep -qs 'session image /' "$TOP/$WORK"/logs/socks5d.*.log; then
		echo "exec'd from the session image"
	    else
		echo "forked from the master (no session image)"
	    fi)"
	command -v danted >/dev/null &&
		echo "  sockd:      $(danted -v 2>&1 | head -n 1 | cut -d. -f1-3) (Debian $(dpkg-query -W -f '${Version}' dante-server 2>/dev/null))"
	command -v microsocks >/dev/null &&
		echo "  microsocks: Debian $(dpkg-query -W -f '${Version}' microsocks 2>/dev/null)"
}

{
	echo "socks5d benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  ($elapsed s)"
	echo "host: $(uname -sr), $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	versions
	echo "hypervisor: cpu flag $(grep -qw hypervisor /proc/cpuinfo && echo yes || echo no); dmesg: $(dmesg 2>/dev/null | grep -m1 -o 'Hypervisor detected.*' || echo 'no Hypervisor detected line')"
	echo "load average at start: $LOAD0 (other work on the machine makes figures noisy)"
	echo "median of $RUNS run(s) per server, servers alternated; each run in a fresh network namespace"
	echo "loads: throughput ${TP_SECS} s windows (after ${TP_WARM} s warm-up), up = client->dest, down = dest->client;"
	echo "       sessions = greeting + CONNECT + 64-byte echo + client close, c=1: $C1, c=32: $C32;"
	echo "       $HOLD idle sessions held; first reply over $FB fresh connections"
	[ "$QUICK" = 1 ] && echo "BENCH_QUICK=1: short windows and small counts; a harness check, not a measurement"
	echo
	awk -v servers="socks5d sockd microsocks direct" -v c1="$C1" -v c32="$C32" \
	    -v hold="$HOLD" -f tests/bench/report.awk "$WORK"/res/*
	echo
	echo "floor = tests/bench/forkfloor (static, minimal; the dynamic row: the same program linked"
	echo "as socks5d is), $FLOOR_N iterations per loop (pages: $FLOOR_N pages, 20 children), once per run;"
	echo "server CPU per session = the server tree's CPU over the c=32 run / sessions (socksbench treestat)."
	echo "chained: the same loads through two servers of one kind (socks5d -> socks5d with a"
	echo "socks5 line; sockd -> sockd with a route statement); CPU is the front server's only"
	awk -v c1="$C1" -v c32="$C32" -v hold="$HOLD" -v mode=chain \
	    -f tests/bench/report.awk "$WORK"/res/*
	echo
	echo "kernel memory = delta of Slab + KernelStack + PageTables (/proc/meminfo, machine-wide) per"
	echo "held session; it includes the sessions' client and destination sockets (direct: 2 sockets per"
	echo "session, through a proxy: 4), so compare a server with direct rather than with zero."
	echo "PSS = sum of smaps_rollup Pss over the server's process tree, (held - before) / sessions."
	echo "CPU = utime+stime(+cutime+cstime) of the server tree over the throughput windows."
	echo
	echo "per-run values:"
	awk -v servers="socks5d sockd microsocks direct s5chain dchain" -v c1="$C1" \
	    -v c32="$C32" -v hold="$HOLD" -v mode=runs -f tests/bench/report.awk "$WORK"/res/*
	if [ -s "$WORK/notes" ]; then
		echo
		echo "notes:"
		sed 's/^/  /' "$WORK/notes"
	fi
	echo
	echo "rule loading and matching (tests/bench/bench_rules.c):"
	if [ ! -f tests/bench/bench_rules.c ]; then
		echo "  skipped: tests/bench/bench_rules.c does not exist yet"
	elif [ ! -x "$RULES" ] ||
	    [ -n "$(find tests/bench/bench_rules.c -newer "$RULES")" ]; then
		echo "  skipped: $BUILD/bench/bench_rules did not build (see the make output above)"
	else
		timeout -k 5 600 "$RULES" >"$WORK/rules.out" 2>&1
		rc=$?
		sed 's/^/  /' "$WORK/rules.out"
		[ $rc -ne 0 ] && echo "  bench_rules exited with status $rc"
	fi
} | tee "$OUT"
awk -v servers="socks5d sockd microsocks direct" -v c1="$C1" -v c32="$C32" \
    -v hold="$HOLD" -v mode=data -f tests/bench/report.awk "$WORK"/res/* >"$WORK/plot.dat"
if command -v gnuplot >/dev/null; then
	sh tests/bench/plot.sh "$WORK/plot.dat" "$BUILD/bench.svg" \
	    "socks5d bench $(date -u '+%Y-%m-%d') on $(nproc) CPUs$(grep -qw hypervisor /proc/cpuinfo && echo ', under a hypervisor')" &&
		echo "bench: picture in $BUILD/bench.svg" >&2
else
	echo "bench: gnuplot not installed: no $BUILD/bench.svg" >&2
fi
echo "bench: table in $OUT; per-run values and logs in $WORK/" >&2
exit
}
