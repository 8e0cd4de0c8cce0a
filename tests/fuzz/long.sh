#!/bin/sh
# make fuzz-long: a fuzz campaign.  Each harness runs until it has used
# FUZZ_LONG_CPU seconds of CPU (default 3600), counted from /proc rather than
# the wall clock, so a campaign on a shared or niced machine still gets its
# hour.  Its corpus is then minimized (libFuzzer -merge=1) into
# tests/fuzz/corpus/NAME/campaign/, which make check's short runs read too
# (libFuzzer reads corpus directories recursively), so every path a
# campaign found stays a regression input.  The hand-written seeds in
# tests/fuzz/corpus/NAME/ are kept as they are.
#
#   FUZZ_LONG_HARNESSES  names, e.g. "conf socks" (default: every harness)
#   FUZZ_LONG_JOBS       harnesses at a time (default: the number of CPUs)
#   FUZZ_LONG_NICE       nice level of the fuzzers (default 0)
#
# SIGINT to a harness ends its run early (libFuzzer prints its statistics
# on SIGINT); its corpus is still minimized and its line printed.
#
# Prints one line per harness: CPU seconds, executions, execs/s, coverage,
# corpus size, the slowest input's wall time, and any crash, leak, timeout
# or out-of-memory input (under build/fuzz-long/NAME/artifacts/), and
# appends the same line to build/fuzz-long/summary.  Exits non-zero if a
# harness found a crash.
set -u
BUILD=${BUILD:-build}
CPU_TARGET=${FUZZ_LONG_CPU:-3600}
JOBS=${FUZZ_LONG_JOBS:-$(nproc)}
NICE=${FUZZ_LONG_NICE:-0}
HARNESSES=${FUZZ_LONG_HARNESSES:-$(ls "$BUILD"/fuzz/ | sed -n 's/^fuzz_//p')}
TICKS=$(getconf CLK_TCK)
work="$BUILD/fuzz-long"
mkdir -p "$work"

# cpu_seconds PID: user + system CPU time of the process, whole seconds.
cpu_seconds() {
	# Fields 14 and 15 of /proc/PID/stat, counted after the command name,
	# which may hold spaces but ends at the last ')'.
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
	    awk -v t="$TICKS" '{ printf "%d\n", ($12 + $13) / t }'
}

# campaign NAME: one harness's run, minimization and summary line.
campaign() {
	_name=$1
	_bin="$BUILD/fuzz/fuzz_$_name"
	_dir="$work/$_name"
	_seeds="tests/fuzz/corpus/$_name"
	rm -rf "$_dir"
	mkdir -p "$_dir/corpus" "$_dir/artifacts"
	# -timeout is wall-clock time in libFuzzer: a niced campaign on a busy
	# machine must not report a slow moment as a hang, hence 60 s.
	# The wall-clock bound only keeps the loop finite: a harness starved
	# of CPU for 24 times its budget is reported, not waited for.
	_wall_max=$((CPU_TARGET * 24 + 600))
	nice -n "$NICE" "$_bin" -timeout=60 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$_dir/artifacts/" \
	    "$_dir/corpus" "$_seeds" >"$_dir/run.log" 2>&1 &
	_pid=$!
	_t0=$(date +%s)
	_cpu=0
	while kill -0 "$_pid" 2>/dev/null; do
		_cpu=$(cpu_seconds "$_pid")
		[ -n "$_cpu" ] || _cpu=0
		if [ "$_cpu" -ge "$CPU_TARGET" ] ||
		    [ $(($(date +%s) - _t0)) -ge "$_wall_max" ]; then
			# libFuzzer prints its final statistics on SIGINT.
			kill -INT "$_pid"
			break
		fi
		sleep 5
	done
	wait "$_pid"
	_execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$_dir/run.log")
	_rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$_dir/run.log")
	_cov=$(grep -o 'cov: [0-9]*' "$_dir/run.log" | tail -1 | cut -d' ' -f2)
	# A slow unit is reported, not counted as a crash: libFuzzer times
	# it by the wall clock, which a niced or paused campaign stretches.
	_crash=$(ls "$_dir/artifacts" | grep -v '^slow-unit-' | head -1)
	_slowest=$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$_dir/run.log")

	# Minimize: the seeds go first, so the campaign directory keeps only
	# inputs that reach something the seeds do not.
	_merged="$_dir/merged"
	mkdir -p "$_merged" "$_seeds/campaign"
	find "$_seeds" -maxdepth 1 -type f -exec cp {} "$_merged/" \;
	"$_bin" -merge=1 -timeout=60 -rss_limit_mb=2048 "$_merged" \
	    "$_seeds/campaign" "$_dir/corpus" >"$_dir/merge.log" 2>&1
	find "$_seeds" -maxdepth 1 -type f -exec basename {} \; |
	    while read -r _f; do rm -f "$_merged/$_f"; done
	rm -rf "$_seeds/campaign"
	mkdir -p "$_seeds/campaign"
	cp "$_merged"/* "$_seeds/campaign/" 2>/dev/null
	_kept=$(ls "$_seeds/campaign" | wc -l)

	_line="fuzz_$_name: ${_cpu} CPU s, ${_execs:-?} execs, ${_rate:-?} exec/s, cov ${_cov:-?}, campaign corpus $_kept inputs, slowest unit ${_slowest:-?} s"
	[ -n "$_crash" ] && _line="$_line, CRASH $_dir/artifacts/$_crash"
	echo "$_line" | tee -a "$work/summary"
	[ -z "$_crash" ]
}

rc=0
pids=
for h in $HARNESSES; do
	[ -x "$BUILD/fuzz/fuzz_$h" ] || { echo "no harness fuzz_$h" >&2; rc=1; continue; }
	campaign "$h" &
	pids="$pids $!"
	# Bounded by the campaigns' own wall-clock limit.
	while :; do
		running=0
		for p in $pids; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
		[ "$running" -lt "$JOBS" ] && break
		sleep 5
	done
done
for p in $pids; do wait "$p" || rc=1; done
exit $rc
