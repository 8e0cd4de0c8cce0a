#!/usr/bin/env bats
# The process layout with the forker (README "Security model"): workers are
# the forker's children, never the master's; a worker killed by SIGSYS is
# still audited and penalised; a forker killed by SIGKILL is restarted, its
# workers go on as the master's children, new clients are served; no
# zombies.  (SIGTERM grace and SOCKS5_MAXCHILD: master.bats.)  Runs as root.

load lib/common

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "the forker tests need root"
	server_start EH echohash
	# No hosts_access rules: every client goes through the forker.
	write_conf "$BATS_FILE_TMPDIR/socks5.conf" \
	    "set SOCKS5_HOSTS_ALLOW $BATS_FILE_TMPDIR/none.allow" \
	    "set SOCKS5_HOSTS_DENY $BATS_FILE_TMPDIR/none.deny" \
	    "permit - - - - - -"
	AUDIT="$BATS_FILE_TMPDIR/audit.jsonl"
	export AUDIT
	daemon_start F "$BATS_FILE_TMPDIR/socks5.conf" -- -a "$AUDIT"
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# titled PARENT TITLE: the pid of PARENT's child whose title starts with TITLE.
titled() {
	local c
	for c in $(daemon_children "$1"); do
		case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in
		"$2"*) echo "$c"; return 0 ;;
		esac
	done
	return 1
}

status_field() { # PID FIELD: the first value of FIELD in /proc/PID/status
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}

stat_field() { # PID N: field N of /proc/PID/stat (after the comm)
	local st
	read -r st <"/proc/$1/stat" || return 1
	st=${st##*) }
	set -- $st "$2"
	local n=${!#}
	shift $((n - 3))
	echo "$1"
}

audit_at_least() {
	local n=$1
	shift
	[ "$(audit_count "$@")" -ge "$n" ]
}

# hold NAME SRC: a session from SRC held open until the file
# $BATS_TEST_TMPDIR/NAME.go exists; sets HELD_PID to its worker (a child of
# PARENT_PID).
hold() {
	local ready="$BATS_TEST_TMPDIR/$1.ready"
	bg "$1" socks -p "127.0.0.1:$F_PORT" --src "$2" -d 127.0.0.1 -P "$EH_PORT" \
	    --go-timeout 30 send:"$1"- ready:"$ready" wait:"$BATS_TEST_TMPDIR/$1.go" \
	    send:done shutdown recv
	wait_until 10 test -e "$ready" || { fail "session $1 not established"; return 1; }
	HELD_PID=$(wait_until 5 titled "$PARENT_PID" "socks5d: worker $2:" &&
	    titled "$PARENT_PID" "socks5d: worker $2:") ||
	    { fail "no worker for $2 under $PARENT_PID: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"; return 1; }
}

@test "process tree: master -> authd, resolver, forker -> one spare and the workers, in the forker's process group" {
	local fk spare
	fk=$(titled "$F_PID" "socks5d: forker") || fail "no forker"
	titled "$F_PID" "socks5d: authd" >/dev/null || fail "no authd"
	titled "$F_PID" "socks5d: resolver" >/dev/null || fail "no resolver"
	assert_eq "$(daemon_children "$F_PID" | wc -l | tr -d ' ')" 3 "children of the master with no session"
	assert_eq "$(stat_field "$fk" 5)" "$fk" "the forker leads its own process group"
	wait_until 5 titled "$fk" "socks5d: spare" >/dev/null || fail "the forker has no spare"
	spare=$(titled "$fk" "socks5d: spare")
	assert_eq "$(daemon_children "$fk" | wc -l | tr -d ' ')" 1 "children of the forker with no session"
	assert_eq "$(status_field "$spare" Uid)" "$(id -u nobody)" "spare uid"
	assert_eq "$(status_field "$spare" Seccomp)" 2 "spare Seccomp"
	assert_eq "$(awk '/^Max processes/ {print $3}' "/proc/$spare/limits")" 0 "spare RLIMIT_NPROC"
	PARENT_PID=$fk hold T1 127.0.0.6
	# The spare took the client; a new spare waits for the next one.
	assert_eq "$HELD_PID" "$spare" "the worker is the spare that waited"
	wait_until 5 eval 'n=$(titled "$fk" "socks5d: spare") && [ "$n" != "$spare" ]' ||
	    fail "no new spare after a client: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"
	assert_eq "$(stat_field "$HELD_PID" 4)" "$fk" "the worker's parent"
	assert_eq "$(stat_field "$HELD_PID" 5)" "$fk" "the worker's process group"
	[ -z "$(titled "$F_PID" "socks5d: worker")" ] || fail "a worker is the master's child"
	touch "$BATS_TEST_TMPDIR/T1.go"
	bg_wait T1 20
	[ "$status" -eq 0 ] || fail "$output"
	assert_field recv-text "$(hashline T1-done)"
}

@test "a forker's worker killed by SIGSYS: error record with the signal, its client penalised" {
	local fk
	fk=$(titled "$F_PID" "socks5d: forker") || fail "no forker"
	PARENT_PID=$fk hold S1 127.0.0.7
	kill -SYS "$HELD_PID"
	wait_until 5 audit_at_least 1 "$AUDIT" event error pid "$HELD_PID" ||
	    fail "no error record for worker $HELD_PID: $(tail -n 3 "$AUDIT")"
	local rec
	rec=$(audit_records "$AUDIT" event error pid "$HELD_PID")
	assert_match "$rec" '"signal":31'
	assert_match "$rec" '"client":"127\.0\.0\.7'
	assert_match "$rec" 'killed by the sandbox'
	run socks -p "127.0.0.1:$F_PORT" --src 127.0.0.7 -d 127.0.0.1 -P "$EH_PORT"
	assert_match "$output" "error=(eof|reset) in method reply after 0 bytes" \
	    "the crashed client's address is refused"
	[ "$(audit_count "$AUDIT" event ban rule penalty)" -ge 1 ] || fail "no penalty record"
	assert_serves "$F_PORT" "$EH_PORT"
}

@test "the forker killed by SIGKILL: its held session goes on under the master, a new forker serves new clients" {
	local fk new
	fk=$(titled "$F_PID" "socks5d: forker") || fail "no forker"
	PARENT_PID=$fk hold K1 127.0.0.8
	local worker=$HELD_PID
	kill -KILL "$fk"
	wait_until 10 eval 'new=$(titled "$F_PID" "socks5d: forker") && [ "$new" != "$fk" ]' ||
	    fail "the forker was not restarted: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"
	new=$(titled "$F_PID" "socks5d: forker")
	# The orphaned worker is the master's now (a subreaper), still serving.
	wait_until 5 eval '[ "$(stat_field "$worker" 4)" = "$F_PID" ]' ||
	    fail "worker $worker's parent is $(stat_field "$worker" 4), not the master"
	run multiclient -p "127.0.0.1:$F_PORT" -P "$EH_PORT" -n 20 --threads 4 --size 100
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "${lines[-1]}" "ok=20 fail=0"
	touch "$BATS_TEST_TMPDIR/K1.go"
	bg_wait K1 20
	[ "$status" -eq 0 ] || fail "held session: $output"
	assert_field recv-text "$(hashline K1-done)"
	# The master reaped it: no zombie left under the master.
	wait_until 5 eval '! [ -e /proc/$worker ]' ||
	    fail "worker $worker left behind: $(ps -o pid,ppid,stat,args -p "$worker")"
	[ "$(audit_count "$AUDIT" event error pid "$worker")" -eq 0 ] ||
	    fail "the orphan's clean exit was reported as a crash"
}

@test "200 sessions through the forker leave no zombies and no workers" {
	local fk p n
	fk=$(titled "$F_PID" "socks5d: forker") || fail "no forker"
	run multiclient -p "127.0.0.1:$F_PORT" -P "$EH_PORT" -n 200 --threads 8 --size 100
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "${lines[-1]}" "ok=200 fail=0"
	# authd, resolver, forker and its spare
	wait_until 15 eval '[ "$(daemon_tree "$F_PID" | wc -l)" -eq 4 ]' ||
	    fail "after 200 sessions: $(ps -o pid,ppid,stat,args $(daemon_tree "$F_PID"))"
	n=0
	for p in $(daemon_tree "$F_PID"); do
		[ "$(stat_field "$p" 3)" != Z ] || n=$((n + 1))
	done
	assert_eq "$n" 0 "zombies"
	assert_eq "$(titled "$F_PID" "socks5d: forker")" "$fk" "the same forker throughout"
}

@test "SIGHUP retires the forker: a new one serves the new rules, the held session goes on" {
	local fk new t=$BATS_TEST_TMPDIR
	fk=$(titled "$F_PID" "socks5d: forker") || fail "no forker"
	PARENT_PID=$fk hold H1 127.0.0.9
	kill -HUP "$F_PID"
	wait_until 10 eval 'new=$(titled "$F_PID" "socks5d: forker") && [ "$new" != "$fk" ]' ||
	    fail "no new forker after SIGHUP"
	wait_until 5 eval '! [ -e /proc/$fk ]' || fail "the old forker $fk did not exit"
	assert_serves "$F_PORT" "$EH_PORT"
	touch "$t/H1.go"
	bg_wait H1 20
	[ "$status" -eq 0 ] || fail "held session: $output"
	assert_field recv-text "$(hashline H1-done)"
}

@test "a spare killed before it has a client: no record, no penalty, the next client is served and a new spare made" {
	local fk spare
	fk=$(titled "$F_PID" "socks5d: forker") || fail "no forker"
	wait_until 5 titled "$fk" "socks5d: spare" >/dev/null || fail "the forker has no spare"
	spare=$(titled "$fk" "socks5d: spare")
	kill -SEGV "$spare"
	wait_until 5 eval '! [ -e /proc/$spare ]' || fail "spare $spare did not die"
	assert_serves "$F_PORT" "$EH_PORT"
	wait_until 5 eval 'n=$(titled "$fk" "socks5d: spare") && [ "$n" != "$spare" ]' ||
	    fail "no new spare: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"
	[ "$(audit_count "$AUDIT" event error pid "$spare")" -eq 0 ] ||
	    fail "a spare with no client was audited as a crash"
	grep -q "unknown pid" "$F_LOG" && fail "the forker reported the spare: $(grep 'unknown pid' "$F_LOG")"
	true
}
