#!/bin/sh
# make check-sanitize: the unit tests and the bats suites against the
# SANITIZE=1 build (build-asan/), then every test's and every daemon's
# output searched for what the sanitizers and the debug filter report.
# BATS_FILES limits the suites (all by default).  Prints the findings, the
# time taken, and "N passed, N failed" last.
set -u
BUILD=${BUILD:-build-asan}
out="$BUILD/sanitize-logs"
rm -rf "$out"
mkdir -p "$out"
# symbolize=0: a sandboxed worker cannot exec llvm-symbolizer; addresses
# are enough to find the line with addr2line afterwards.  Leaks are checked
# in every process that ends with exit() (the master, the unit tests);
# workers end with _exit() after their session, as in production.
ASAN_OPTIONS="symbolize=0:detect_leaks=1:print_summary=1:halt_on_error=1"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:print_summary=1"
export ASAN_OPTIONS UBSAN_OPTIONS
start=$(date +%s)
BUILD="$BUILD" TESTS="unit bats" BATS_KEEP="$out/bats" sh tests/run.sh \
    >"$out/run.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
cat "$out/run.log"
# Reports: ASan/LSan/UBSan everywhere; a syscall the filter refused
# (SANDBOX_DEBUG names it; "syscall 0" is a SIGSYS sent by kill, which
# forker.bats does on purpose) everywhere but test_sandbox, whose probes
# are refused on purpose; a resolver dead of SIGSYS (it has no handler).
san='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'
sys='seccomp refused syscall [1-9]|resolver \(pid [0-9]+\) exited \(status 31, signal\)'
findings=$( (grep -rEl "$san" "$out" "$BUILD/test-logs"
    grep -rEl "$sys" "$out" "$BUILD/test-logs" | grep -v '/test_sandbox\.err$'
    ) 2>/dev/null | sort -u)
n=0
for f in $findings; do
	n=$((n + 1))
	echo "FINDING in $f:"
	grep -E -m 5 -A 8 "$san|$sys" "$f" | sed 's/^/    /'
done
echo "check-sanitize: $n file(s) with findings; $took s"
[ "$rc" -eq 0 ] && [ "$n" -eq 0 ]
