#!/usr/bin/env bats
# What each process holds (README "Security model", issue 12 finding 8):
# descriptors 0-2, SOCKS5_PASSWD, the master's table of clients, the
# resolver's filter and the audit file.  Memory is read through
# /proc/PID/mem (tests/helpers/memscan.py), so each "not held" check has a
# twin showing the scan finds the bytes where they must be.  Runs as root.

load lib/common

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "reading other processes' memory needs root"
	server_start EH echohash
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# The memory checks do not hold for a SANITIZE=1 binary: ASan keeps its
# own copy of the environment, and freed memory and old stack frames in
# quarantine, unwiped.  They are about the production build.
skip_if_sanitized() {
	! grep -qa __asan_init "$SOCKS5D" ||
	    skip "ASan keeps copies of freed memory and of the environment"
}

memcount() { # PID TEXT | PID --hex HEX
	"$PY" "$HELPERS/memscan.py" "$@"
}

# proc_titled DAEMON_PID TITLE: the first descendant whose title starts so;
# helper_titled: the same among direct children only (a helper, not one of
# its per-request children, which carry its title).
titled() {
	local p list
	if [ "$1" = tree ]; then list=$(daemon_tree "$2"); else list=$(daemon_children "$2"); fi
	for p in $list; do
		[[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == "$3"* ]] &&
		    { echo "$p"; return 0; }
	done
	return 1
}
proc_titled() { titled tree "$@"; }
helper_titled() { titled children "$@"; }

# held NAME DAEMON SRC: a session from SRC kept open; HELD_PID is its
# worker.  (Not in a $(...) subshell: bg must register the client in this
# shell, for cleanup_test.)
held() {
	local port_var="${2}_PORT" pid_var="${2}_PID" ready="$BATS_TEST_TMPDIR/$1.ready"
	HELD_PID=
	bg "$1" socks -p "127.0.0.1:${!port_var}" --src "$3" -d 127.0.0.1 \
	    -P "$EH_PORT" ready:"$ready" sleep:30
	wait_until 20 test -e "$ready" || return 1
	wait_until 10 proc_titled "${!pid_var}" "socks5d: worker $3:" || return 1
	HELD_PID=$(proc_titled "${!pid_var}" "socks5d: worker $3:")
}

@test "descriptors 0-2: stdin is /dev/null and a terminal is write-only, in every process" {
	local wrap="$BATS_TEST_TMPDIR/on-a-tty" p fd flags w
	printf '#!/bin/sh\nexec %s %s %s -- %s "$@"\n' "$PY" "$HELPERS/ptyexec.py" \
	    "$BATS_TEST_TMPDIR/tty.out" "$(realpath "$SOCKS5D")" >"$wrap"
	chmod 0755 "$wrap"
	write_conf "$BATS_TEST_TMPDIR/t.conf"
	SOCKS5D="$wrap" daemon_start T "$BATS_TEST_TMPDIR/t.conf"
	held T1 T 127.0.0.1 || fail "no held session"
	w=$HELD_PID
	for p in "$T_PID" "$w" $(helper_titled "$T_PID" "socks5d: authd") \
	    $(helper_titled "$T_PID" "socks5d: resolver") \
	    $(helper_titled "$T_PID" "socks5d: forker"); do
		assert_eq "$(readlink "/proc/$p/fd/0")" /dev/null "fd 0 of $p ($(tr '\0' ' ' <"/proc/$p/cmdline"))"
		for fd in 1 2; do
			flags=$(awk '/^flags:/ { print $2 }' "/proc/$p/fdinfo/$fd")
			[[ $(readlink "/proc/$p/fd/$fd") == /dev/pts/* ]] ||
			    fail "fd $fd of $p is not the terminal: $(readlink "/proc/$p/fd/$fd")"
			assert_eq $((8#$flags & 3)) 1 "fd $fd of $p opened write-only (flags $flags)"
		done
	done
	grep -q "started" "$BATS_TEST_TMPDIR/tty.out" || fail "no output reached the terminal"
}

@test "SOCKS5_PASSWD: only the master keeps it when no socks5 line could send it" {
	skip_if_sanitized
	local secret="pw-$$-$RANDOM-upstream" w p
	write_conf "$BATS_TEST_TMPDIR/p.conf" "permit - - - - - -"
	export SOCKS5_USER=chainuser SOCKS5_PASSWD="$secret"
	daemon_start P "$BATS_TEST_TMPDIR/p.conf"
	unset SOCKS5_USER SOCKS5_PASSWD
	held P1 P 127.0.0.1 || fail "no held session"
	w=$HELD_PID
	[ "$(memcount "$P_PID" "$secret")" -ge 1 ] ||
	    fail "the scan does not find the password in the master (it must keep it for SIGHUP)"
	assert_eq "$(memcount "$w" "$secret")" 0 "copies in the worker"
	for p in authd resolver forker; do
		assert_eq "$(memcount "$(helper_titled "$P_PID" "socks5d: $p")" "$secret")" 0 "copies in $p"
	done
}

@test "SOCKS5_PASSWD: a worker keeps it when a socks5 line may need it" {
	skip_if_sanitized
	local secret="pw-$$-$RANDOM-chained" w
	write_conf "$BATS_TEST_TMPDIR/c.conf" "socks5 192.0.2.1 - 127.0.0.1:9" \
	    "permit - - - - - -"
	export SOCKS5_USER=chainuser SOCKS5_PASSWD="$secret"
	daemon_start C "$BATS_TEST_TMPDIR/c.conf"
	unset SOCKS5_USER SOCKS5_PASSWD
	held C1 C 127.0.0.1 || fail "no held session"
	w=$HELD_PID
	[ "$(memcount "$w" "$secret")" -ge 1 ] || fail "the worker lost a password it may send"
	assert_eq "$(memcount "$(helper_titled "$C_PID" "socks5d: resolver")" "$secret")" 0 \
	    "copies in the resolver"
}

@test "a worker does not hold the master's table of the other sessions' clients" {
	skip_if_sanitized
	local a b port hex
	# hosts_access rules: the master forks each worker itself, from its
	# own memory, table included.
	printf 'socks5d: 127.0.0.3\n' >"$BATS_TEST_TMPDIR/deny"
	write_conf "$BATS_TEST_TMPDIR/m.conf" \
	    "set SOCKS5_HOSTS_ALLOW $BATS_TEST_TMPDIR/allow" \
	    "set SOCKS5_HOSTS_DENY $BATS_TEST_TMPDIR/deny" "permit - - - - - -"
	daemon_start M "$BATS_TEST_TMPDIR/m.conf"
	held MA M 127.0.0.7 || fail "no session A"
	a=$HELD_PID
	port=$(sed -n 's/^local=127\.0\.0\.7:\([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/MA.out")
	[ -n "$port" ] || fail "no local port in MA.out"
	# A's struct sockaddr_in: AF_INET (little-endian), port, 127.0.0.7.
	hex=$(printf '0200%04x7f000007' "$port")
	held MB M 127.0.0.8 || fail "no session B"
	b=$HELD_PID
	[ "$(memcount "$M_PID" --hex "$hex")" -ge 1 ] ||
	    fail "the scan does not find A's address in the master's table"
	assert_eq "$(memcount "$b" --hex "$hex")" 0 "copies of A's address in B's worker"
}

@test "the resolver runs under its own filter, without the audit file, and names still resolve" {
	local res w logger
	write_conf "$BATS_TEST_TMPDIR/r.conf" "permit - - - - - -"
	daemon_start R "$BATS_TEST_TMPDIR/r.conf" -- -a "$BATS_TEST_TMPDIR/audit.jsonl"
	res=$(helper_titled "$R_PID" "socks5d: resolver") || fail "no resolver"
	assert_eq "$(awk '$1 == "Seccomp:" { print $2 }' "/proc/$res/status")" 2 "resolver Seccomp"
	held R1 R 127.0.0.1 || fail "no held session"
	w=$HELD_PID
	# Only the audit logger holds the file (the check can see it there);
	# neither the resolver nor a worker does.
	logger=$(helper_titled "$R_PID" "socks5d: audit logger") || fail "no audit logger"
	ls -l "/proc/$logger/fd" | grep -q audit.jsonl || fail "the audit logger has no audit file (the check cannot see one)"
	! ls -l "/proc/$w/fd" | grep -q audit.jsonl || fail "the worker holds the audit file"
	! ls -l "/proc/$res/fd" | grep -q audit.jsonl || fail "the resolver holds the audit file"
	run socks -p "127.0.0.1:$R_PORT" -d localhost -P "$EH_PORT" send:named shutdown recv
	assert_field reply 0 "localhost through the filtered resolver"
	run socks -p "127.0.0.1:$R_PORT" -d no-such-name.invalid -P "$EH_PORT"
	assert_field reply 4 "an unknown name"
	assert_eq "$(helper_titled "$R_PID" "socks5d: resolver")" "$res" "the same resolver (not killed by its filter)"
}
