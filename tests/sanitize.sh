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
# Absolute: it becomes each bats file's BATS_FILE_TMPDIR, which tests hand
# to the daemon (SOCKS5_PWDFILE must be absolute) and read through
# /proc/PID/root.
out=$(cd "$out" && pwd)
# symbolize=0: a sandboxed worker cannot exec llvm-symbolizer; addresses
# are enough to find the line with addr2line afterwards.  Leaks are checked
# in every process that ends with exit() (the master, the unit tests);
# workers end with _exit() after their session, as in production.
# verify_asan_link_order=0: auth.bats preloads pam_wrapper ahead of the
# runtime, which the runtime otherwise refuses to start with.
ASAN_OPTIONS="symbolize=0:detect_leaks=1:print_summary=1:halt_on_error=1"
ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
# pam_wrapper dlopens libpam with RTLD_DEEPBIND, which the runtime refuses
# (authd's PAM child aborted); this is the variable pam_wrapper 1.1 reads
# to leave it out, misnamed after uid_wrapper's.
UID_WRAPPER_DISABLE_DEEPBIND=1
export UID_WRAPPER_DISABLE_DEEPBIND
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:print_summary=1"
export ASAN_OPTIONS UBSAN_OPTIONS
start=$(date +%s)
BUILD="$BUILD" TESTS="unit bats" BATS_KEEP="$out/bats" sh tests/run.sh \
    >"$out/run.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
cat "$out/run.log"
# Reports: ASan/LSan/UBSan everywhere, and the runtime refusing to run
# (its own fatal errors, a library it cannot coexist with); a syscall the
# filter refused (SANDBOX_DEBUG names it; a SIGSYS sent by kill, which
# forker.bats does on purpose, kills silently as in production) everywhere
# but test_sandbox, whose probes are refused on purpose; a resolver dead
# of SIGSYS (it has no handler).
san='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'
san="$san"'|Sanitizer has encountered a fatal error|Sanitizer CHECK failed'
san="$san"'|incompatible with sanitizer runtime|ASan runtime does not come first'
sys='seccomp refused syscall [1-9]|resolver \(pid [0-9]+\) exited \(status 31, signal\)'
# Sources are skipped: deb.bats keeps a copy of the tree, this file in it
# (no globbing: the patterns go to grep as they are).
set -f
src="--exclude=*.c --exclude=*.h --exclude=*.sh --exclude=*.bats"
src="$src --exclude=*.bash --exclude=*.py --exclude=*.md"
findings=$( (grep -rEl $src "$san" "$out" "$BUILD/test-logs"
    grep -rEl $src "$sys" "$out" "$BUILD/test-logs" |
	grep -v '/test_sandbox\.err$'
    ) 2>/dev/null | sort -u)
n=0
for f in $findings; do
	n=$((n + 1))
	echo "FINDING in $f:"
	grep -E -m 5 -A 8 "$san|$sys" "$f" | sed 's/^/    /'
done
echo "check-sanitize: $n file(s) with findings; $took s"
[ "$rc" -eq 0 ] && [ "$n" -eq 0 ]
