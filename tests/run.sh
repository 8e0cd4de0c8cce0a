#!/bin/sh
# Runs every test make check knows about and prints "N passed, N failed" as
# the last line; exits non-zero when anything failed.
#   unit: build/tests/test_*  (TAP, one point per CHECK)
#   fuzz: build/fuzz/fuzz_*   (one point per harness: a short libFuzzer run
#                              over its seed corpus, then random inputs)
#   bats: tests/*.bats        (TAP, one point per @test)
# TESTS=unit|fuzz|bats (space-separated) limits the run; BATS_FILTER=regex
# is passed to bats --filter; BATS_FILES (space-separated paths) replaces
# tests/*.bats; BATS_KEEP=DIR keeps each file's bats temporary directory
# (daemon logs included) under DIR (make check-sanitize reads them).
set -u
BUILD=${BUILD:-build}
TESTS=${TESTS:-unit fuzz bats}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
log="$BUILD/test-logs"
rm -rf "$log"
mkdir -p "$log"
passed=0
failed=0

# count_tap FILE: add the file's ok / not ok lines to the totals.
count_tap() {
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	passed=$((passed + p))
	failed=$((failed + f))
	grep '^not ok ' "$1" | sed "s|^|  FAIL $(basename "$1" .tap): |"
}

# bats_one FILE: one bats file into $log/NAME.tap, its exit status into
# NAME.rc and its wall time into NAME.secs (counted later, in file order).
bats_one() {
	_name=$(basename "$1" .bats)
	_t0=$(date +%s)
	SOCKS5D="$BUILD/socks5d" timeout 900 bats --tap --timing \
	    ${BATS_FILTER:+--filter "$BATS_FILTER"} \
	    ${BATS_KEEP:+--no-tempdir-cleanup --tempdir "$BATS_KEEP/$_name"} \
	    "$1" >"$log/$_name.tap" 2>&1
	echo $? >"$log/$_name.rc"
	echo $(($(date +%s) - _t0)) >"$log/$_name.secs"
}

# fuzz_one BIN: a short libFuzzer run over the harness's corpus and seeds;
# its exit status into $log/NAME.rc.
fuzz_one() {
	_name=$(basename "$1")
	_corpus="$BUILD/fuzz-corpus/$_name"
	mkdir -p "$_corpus"
	_seeds=tests/fuzz/corpus/${_name#fuzz_}
	"$1" -max_total_time="$FUZZ_SECONDS" -timeout=5 -rss_limit_mb=2048 \
	    -print_final_stats=0 "$_corpus" $( [ -d "$_seeds" ] && echo "$_seeds" ) \
	    >"$log/$_name.log" 2>&1
	echo $? >"$log/$_name.rc"
}

# wait_one: until one of the jobs in $pids has ended, which it drops from
# the list (dash has no wait -n).  Bounded: bats_one's timeout(1) ends
# every job within 900 s.
wait_one() {
	_i=0
	while [ $_i -lt 10000 ]; do
		for _p in $pids; do
			if ! kill -0 "$_p" 2>/dev/null; then
				wait "$_p"
				pids=$(echo "$pids" | tr ' ' '\n' | grep -vx "$_p" | tr '\n' ' ')
				return 0
			fi
		done
		sleep 0.2
		_i=$((_i + 1))
	done
}

for t in $TESTS; do
	case $t in
	unit)
		for bin in "$BUILD"/tests/test_*; do
			[ -x "$bin" ] || continue
			name=$(basename "$bin")
			"$bin" >"$log/$name.tap" 2>"$log/$name.err"
			rc=$?
			echo "unit  $name: $(grep -c '^ok ' "$log/$name.tap") ok, $(grep -c '^not ok ' "$log/$name.tap") not ok"
			count_tap "$log/$name.tap"
			# A crash or a missing plan is a failure even if every
			# point printed so far passed.
			if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log/$name.tap"; then
				echo "  FAIL $name: exit status $rc"; failed=$((failed + 1))
			fi
		done
		;;
	fuzz)
		# One harness per core at a time (FUZZ_JOBS): each is
		# CPU-bound for FUZZ_SECONDS and shares nothing with the others.
		pids=
		for bin in "$BUILD"/fuzz/fuzz_*; do
			[ -x "$bin" ] || continue
			fuzz_one "$bin" &
			pids="$pids $!"
			[ "$(echo $pids | wc -w)" -ge "${FUZZ_JOBS:-2}" ] && wait_one
		done
		while [ -n "$(echo $pids)" ]; do
			wait_one
		done
		for bin in "$BUILD"/fuzz/fuzz_*; do
			[ -x "$bin" ] || continue
			name=$(basename "$bin")
			if [ "$(cat "$log/$name.rc" 2>/dev/null || echo 1)" -eq 0 ]; then
				echo "fuzz  $name: ok ($(grep -o 'cov: [0-9]*' "$log/$name.log" | tail -1))"
				passed=$((passed + 1))
			else
				echo "  FAIL $name: see $log/$name.log"
				tail -30 "$log/$name.log" | sed 's/^/    /'
				failed=$((failed + 1))
			fi
		done
		;;
	bats)
		# Three files at a time (BATS_JOBS), even on two cores: most
		# of a file's time is spent waiting (time limits, held
		# sessions, daemons starting and stopping), not on a core.  A
		# file in BATS_SERIAL runs alone first: rules.bats needs the
		# machine's session rate to itself.
		jobs=${BATS_JOBS:-3}
		serial=" ${BATS_SERIAL:-rules} "
		# BATS_FILES: which files (default all).
		files=$(echo ${BATS_FILES:-tests/*.bats})
		for f in $files; do
			name=$(basename "$f" .bats)
			case $serial in *" $name "*) bats_one "$f" ;; esac
		done
		# The longest first, so the two lanes end together.
		first="chain proxyproto auth master deb errors"
		pids=
		for f in $(for n in $first; do
		    case " $files " in *" tests/$n.bats "*) echo "tests/$n.bats" ;; esac
		    done) $files; do
			[ -f "$f" ] || continue
			name=$(basename "$f" .bats)
			case $serial in *" $name "*) continue ;; esac
			[ -e "$log/$name.started" ] && continue
			: >"$log/$name.started"
			bats_one "$f" &
			pids="$pids $!"
			[ "$(echo $pids | wc -w)" -ge "$jobs" ] && wait_one
		done
		while [ -n "$(echo $pids)" ]; do
			wait_one
		done
		wait
		# Counted in file order, whatever order they finished in.
		for f in $files; do
			[ -f "$f" ] || continue
			name=$(basename "$f" .bats)
			rc=$(cat "$log/$name.rc" 2>/dev/null || echo 1)
			echo "bats  $name: $(grep -c '^ok ' "$log/$name.tap") ok, $(grep -c '^not ok ' "$log/$name.tap") not ok ($(cat "$log/$name.secs" 2>/dev/null || echo '?') s)"
			count_tap "$log/$name.tap"
			if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$log/$name.tap"; then
				echo "  FAIL $name: bats exit status $rc"
				tail -20 "$log/$name.tap" | sed 's/^/    /'
				failed=$((failed + 1))
			fi
		done
		;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
