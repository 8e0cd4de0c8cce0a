#!/usr/bin/env bats
# The process layout with the forkers (README "Security model"): one forker
# per CPU (at most 4), each with one spare; workers are a forker's
# children, never the master's; a worker killed by SIGSYS is still audited
# and penalised; a forker killed by SIGKILL is restarted, its workers go on
# as the master's children, new clients are served; no zombies.  (SIGTERM
# grace and SOCKS5_MAXCHILD: master.bats.)  Runs as root.

load lib/common

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "the forker tests need root"
	server_start EH echohash
	# No hosts_access rules: every client goes through a forker.
	# A long penalty: on a loaded host the steps between a crash record
	# and the next connection from the same address took 14 s, past the
	# default 10 s.
	write_conf "$BATS_FILE_TMPDIR/socks5.conf" \
	    "set SOCKS5_HOSTS_ALLOW $BATS_FILE_TMPDIR/none.allow" \
	    "set SOCKS5_HOSTS_DENY $BATS_FILE_TMPDIR/none.deny" \
	    "set SOCKS5_PENALTY 600" \
	    "permit - - - - - -"
	AUDIT="$BATS_FILE_TMPDIR/audit.jsonl"
	export AUDIT
	plain_segv   # "a spare killed before it has a client"
	daemon_start F "$BATS_FILE_TMPDIR/socks5.conf" -- -a "$AUDIT"
	NF=$(nproc)
	[ "$NF" -le 4 ] || NF=4
	export NF
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# titled PARENT TITLE: the pids of PARENT's children whose title starts
# with TITLE (false if none).
titled() {
	local c found=1
	for c in $(daemon_children "$1"); do
		case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in
		"$2"*) echo "$c"; found=0 ;;
		esac
	done
	return $found
}

# forkers: the daemon's forkers, one per line.
forkers() {
	titled "$F_PID" "socks5d: forker"
}

# all_forkers_spared: every forker has its spare.
all_forkers_spared() {
	local f n=0
	for f in $(forkers); do
		titled "$f" "socks5d: spare" >/dev/null || return 1
		n=$((n + 1))
	done
	[ "$n" -eq "$NF" ]
}

status_field() { # PID FIELD: the first value of FIELD in /proc/PID/status
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}

stat_field() { # PID N: field N of /proc/PID/stat (3 = state, 4 = ppid, 5 = pgrp)
	local st n=$2
	read -r st <"/proc/$1/stat" || return 1
	st=${st##*) }
	set -- $st
	shift $((n - 3))
	echo "$1"
}

audit_at_least() {
	local n=$1
	shift
	[ "$(audit_count "$@")" -ge "$n" ]
}

# worker_for SRC: the pid of the daemon's worker for client address SRC.
worker_for() {
	local p
	for p in $(daemon_tree "$F_PID"); do
		case $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) in
		"socks5d: worker $1:"*) echo "$p"; return 0 ;;
		esac
	done
	return 1
}

# hold NAME SRC: a session from SRC held open until the file
# $BATS_TEST_TMPDIR/NAME.go exists; sets HELD_PID to its worker.
hold() {
	local ready="$BATS_TEST_TMPDIR/$1.ready"
	bg "$1" socks -p "127.0.0.1:$F_PORT" --src "$2" -d 127.0.0.1 -P "$EH_PORT" \
	    --go-timeout 30 send:"$1"- ready:"$ready" wait:"$BATS_TEST_TMPDIR/$1.go" \
	    send:done shutdown recv
	wait_until 10 test -e "$ready" || { fail "session $1 not established"; return 1; }
	HELD_PID=$(wait_until 5 worker_for "$2" >/dev/null && worker_for "$2") ||
	    { fail "no worker for $2: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"; return 1; }
}

@test "process tree: master -> authd, resolver, audit logger, one forker per CPU -> one spare each and the workers" {
	local f spares fk
	titled "$F_PID" "socks5d: authd" >/dev/null || fail "no authd"
	titled "$F_PID" "socks5d: audit logger" >/dev/null || fail "no audit logger"
	titled "$F_PID" "socks5d: resolver" >/dev/null || fail "no resolver"
	wait_until 5 all_forkers_spared ||
	    fail "want $NF forkers with a spare each: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"
	assert_eq "$(daemon_children "$F_PID" | wc -l | tr -d ' ')" $((3 + NF)) "children of the master with no session"
	spares=
	for f in $(forkers); do
		assert_eq "$(stat_field "$f" 5)" "$f" "forker $f leads its own process group"
		assert_eq "$(daemon_children "$f" | wc -l | tr -d ' ')" 1 "children of forker $f with no session"
		s=$(titled "$f" "socks5d: spare")
		assert_eq "$(status_field "$s" Uid)" "$(id -u nobody)" "spare uid"
		assert_eq "$(status_field "$s" Seccomp)" 2 "spare Seccomp"
		assert_eq "$(awk '/^Max processes/ {print $3}' "/proc/$s/limits")" 0 "spare RLIMIT_NPROC"
		spares="$spares $s"
	done
	hold T1 127.0.0.6
	fk=$(stat_field "$HELD_PID" 4)
	# A spare took the client; its forker makes a new one.
	[[ " $spares " == *" $HELD_PID "* ]] || fail "worker $HELD_PID was not one of the spares ($spares)"
	[[ " $(forkers | tr '\n' ' ') " == *" $fk "* ]] || fail "the worker's parent $fk is not a forker"
	assert_eq "$(stat_field "$HELD_PID" 5)" "$fk" "the worker's process group"
	wait_until 5 eval 'n=$(titled "$fk" "socks5d: spare") && [ "$n" != "$HELD_PID" ]' ||
	    fail "no new spare after a client: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"
	titled "$F_PID" "socks5d: worker" >/dev/null && fail "a worker is the master's child"
	touch "$BATS_TEST_TMPDIR/T1.go"
	bg_wait T1 20
	[ "$status" -eq 0 ] || fail "$output"
	assert_field recv-text "$(hashline T1-done)"
}

@test "clients are spread over the forkers" {
	[ "$NF" -ge 2 ] || skip "one CPU: one forker"
	local i w parents=
	for i in 1 2; do
		hold R$i 127.0.1.$i
		parents="$parents $(stat_field "$HELD_PID" 4)"
	done
	set -- $parents
	[ "$1" != "$2" ] || fail "two clients in a row went to forker $1"
	touch "$BATS_TEST_TMPDIR/R1.go" "$BATS_TEST_TMPDIR/R2.go"
	bg_wait R1 20
	bg_wait R2 20
}

@test "a forker's worker killed by SIGSYS: error record with the signal, its client penalised" {
	hold S1 127.0.0.7
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

# Every page a worker writes is a page of its own (README, Performance:
# PSS per held session).  A worker made with glibc's fork() wrote two pages
# of the loader's data and one of libc's (its lock resets), the kernel
# stored its thread id, the restartable-sequence area after each
# preemption, and the wipe of an already wiped secret made a heap page its
# own.  Its stack, its own data and the page errno lives in are its own.
# The master sends a client straight to a forker's spare: with every
# forker stopped, each one's spare still takes its client.  (When the
# forker relayed it, a stopped forker left the client without a reply.)
@test "every forker stopped: each forker's spare still serves a client" {
	local fks i ok=0 out
	wait_until 5 all_forkers_spared || fail "not every forker has a spare"
	# The forker sends the master its spare's channel before the spare
	# names itself; a moment lets the master's loop take it.
	sleep 0.5
	fks=$(forkers | tr '\n' ' ')
	# shellcheck disable=SC2086
	kill -STOP $fks
	for i in $(seq "$NF"); do
		out=$(timeout 15 "$PY" "$HELPERS/socksclient.py" -p "127.0.0.1:$F_PORT" \
		    -d 127.0.0.1 -P "$EH_PORT" send:spare-$i shutdown recv) &&
		    [ "$(field recv-text "$out")" = "$(hashline spare-$i)" ] &&
		    ok=$((ok + 1))
	done
	# shellcheck disable=SC2086
	kill -CONT $fks
	assert_eq "$ok" "$NF" "clients served while their forkers were stopped"
	wait_until 5 all_forkers_spared || fail "no new spares once the forkers went on"
}

# own_unix_peer_pids PID: the pids holding the other end of each unix
# socket that PID alone holds (not one it shares, as the doors it
# inherited); ss names both ends by inode.
own_unix_peer_pids() {
	local inodes
	inodes=$(ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	ss -Hxp | awk -v mine=" $inodes " -v pid="$1" '
	    { line[$6] = $0
	      n = gsub(/pid=/, "pid=")
	      if (index(mine, " " $6 " ") && n == 1 && index($0, "pid=" pid ","))
		      peer[$8] = 1 }
	    END { for (p in peer) if (p in line) print line[p] }' |
	    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

# A spare opens its channel to the audit logger while it waits, so its
# client's first records cost one send each (audit_prepare).
@test "a spare holds its channel to the audit logger before it has a client" {
	local spare logger
	wait_until 5 all_forkers_spared || fail "not every forker has a spare"
	spare=$(titled "$(forkers | head -n 1)" "socks5d: spare")
	logger=$(titled "$F_PID" "socks5d: audit logger")
	[ -n "$logger" ] || fail "no audit logger"
	own_unix_peer_pids "$spare" | grep -qx "$logger" ||
	    fail "spare $spare has no channel of its own to the logger $logger: $(own_unix_peer_pids "$spare" | tr '\n' ' ')"
}

@test "a held worker keeps its forker's loader, libc and heap pages shared" {
	local priv tls_in
	grep -qa __asan_init "$SOCKS5D" && skip "ASan's runtime writes its own pages"
	hold M1 127.0.0.6
	priv=$("$PY" "$HELPERS/privpages.py" "$HELD_PID")
	# The session image (socks5d-session) is static: no loader or libc
	# of its own, and the thread block (errno's page) is in its brk heap;
	# in a dynamic program it is an anonymous mapping.
	case $(readlink "/proc/$HELD_PID/exe") in
	*/socks5d-session) tls_in=heap ;;
	*) tls_in=anon ;;
	esac
	touch "$BATS_TEST_TMPDIR/M1.go"
	bg_wait M1 20
	[ "$status" -eq 0 ] || fail "held session: $output"
	echo "$priv" | grep -qx 'stack [0-9]*' || fail "no figures: $priv"
	for k in ldso libc heap anon other; do
		[ "$k" = "$tls_in" ] && continue
		assert_eq "$(echo "$priv" | awk -v k="$k" '$1 == k { print $2 }')" 0 \
		    "$k pages of the worker's own ($(echo $priv))"
	done
	[ "$(echo "$priv" | awk -v k="$tls_in" '$1 == k { print $2 }')" -le 1 ] ||
	    fail "more than the errno page of TLS in $tls_in: $(echo $priv)"
	# The globals a worker writes share one page (common/layout.h).
	[ "$(echo "$priv" | awk '$1 == "exe" { print $2 }')" -le 1 ] ||
	    fail "more than one page of the program's data: $(echo $priv)"
}

@test "a forker killed by SIGKILL: its held session goes on under the master, a new forker serves new clients" {
	local fk
	hold K1 127.0.0.8
	local worker=$HELD_PID
	fk=$(stat_field "$worker" 4)
	kill -KILL "$fk"
	wait_until 10 eval '[ "$(forkers | wc -l)" -eq "$NF" ] && ! forkers | grep -qx "$fk"' ||
	    fail "the forker was not replaced: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"
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
	# The master reaped it: nothing left behind.
	wait_until 5 eval '! [ -e /proc/$worker ]' ||
	    fail "worker $worker left behind: $(ps -o pid,ppid,stat,args -p "$worker")"
	[ "$(audit_count "$AUDIT" event error pid "$worker")" -eq 0 ] ||
	    fail "the orphan's clean exit was reported as a crash"
}

@test "200 sessions through the forkers leave no zombies and no workers" {
	local before p n
	before=$(forkers | sort | tr '\n' ' ')
	run multiclient -p "127.0.0.1:$F_PORT" -P "$EH_PORT" -n 200 --threads 8 --size 100
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "${lines[-1]}" "ok=200 fail=0"
	# authd, resolver, the audit logger, the forkers and a spare each
	wait_until 15 eval '[ "$(daemon_tree "$F_PID" | wc -l)" -eq $((3 + 2 * NF)) ]' ||
	    fail "after 200 sessions: $(ps -o pid,ppid,stat,args $(daemon_tree "$F_PID"))"
	n=0
	for p in $(daemon_tree "$F_PID"); do
		[ "$(stat_field "$p" 3)" != Z ] || n=$((n + 1))
	done
	assert_eq "$n" 0 "zombies"
	assert_eq "$(forkers | sort | tr '\n' ' ')" "$before" "the same forkers throughout"
}

@test "SIGHUP retires the forkers: new ones serve the new rules, the held session goes on" {
	local old t=$BATS_TEST_TMPDIR f
	old=$(forkers)
	hold H1 127.0.0.9
	kill -HUP "$F_PID"
	for f in $old; do
		wait_until 5 eval '! [ -e /proc/$f ]' || fail "the old forker $f did not exit"
	done
	wait_until 10 eval '[ "$(forkers | wc -l)" -eq "$NF" ]' || fail "no new forkers after SIGHUP"
	# The old forkers' spares had their channels in the master, which
	# closed them: none is left waiting (a helper restarted with the
	# reload once inherited a copy, and kept them for ever).
	wait_until 10 eval '! titled "$F_PID" "socks5d: spare" >/dev/null' ||
	    fail "old spares left: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"
	assert_serves "$F_PORT" "$EH_PORT"
	touch "$t/H1.go"
	bg_wait H1 20
	[ "$status" -eq 0 ] || fail "held session: $output"
	assert_field recv-text "$(hashline H1-done)"
}

@test "a spare killed before it has a client: no record, no penalty, clients are served and a new spare made" {
	local fk spare i
	wait_until 5 all_forkers_spared || fail "not every forker has a spare"
	fk=$(forkers | head -n 1)
	spare=$(titled "$fk" "socks5d: spare")
	kill -SEGV "$spare"
	wait_until 5 eval '! [ -e /proc/$spare ]' || fail "spare $spare did not die"
	# Round-robin: within NF clients one reaches that forker.
	for i in $(seq "$NF"); do
		assert_serves "$F_PORT" "$EH_PORT"
	done
	wait_until 5 eval 'n=$(titled "$fk" "socks5d: spare") && [ "$n" != "$spare" ]' ||
	    fail "no new spare: $(ps -o pid,ppid,args $(daemon_tree "$F_PID"))"
	[ "$(audit_count "$AUDIT" event error pid "$spare")" -eq 0 ] ||
	    fail "a spare with no client was audited as a crash"
	! grep -q "unknown pid" "$F_LOG" || fail "the forker reported the spare: $(grep 'unknown pid' "$F_LOG")"
}
