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
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
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
		for bin in "$BUILD"/fuzz/fuzz_*; do
			[ -x "$bin" ] || continue
			name=$(basename "$bin")
			corpus="$BUILD/fuzz-corpus/$name"
			mkdir -p "$corpus"
			seeds=tests/fuzz/corpus/${name#fuzz_}
			if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=5 \
			    -rss_limit_mb=2048 -print_final_stats=0 \
			    "$corpus" $( [ -d "$seeds" ] && echo "$seeds" ) \
			    >"$log/$name.log" 2>&1; then
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
		for f in ${BATS_FILES:-tests/*.bats}; do
			[ -f "$f" ] || continue
			name=$(basename "$f" .bats)
			SOCKS5D="$BUILD/socks5d" timeout 900 bats --tap \
			    ${BATS_FILTER:+--filter "$BATS_FILTER"} \
			    ${BATS_KEEP:+--no-tempdir-cleanup --tempdir "$BATS_KEEP/$name"} \
			    "$f" \
			    >"$log/$name.tap" 2>&1
			rc=$?
			echo "bats  $name: $(grep -c '^ok ' "$log/$name.tap") ok, $(grep -c '^not ok ' "$log/$name.tap") not ok"
			count_tap "$log/$name.tap"
			if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log/$name.tap"; then
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
