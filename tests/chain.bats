#!/usr/bin/env bats
# Chaining (issue 9): requests that select a socks5/socks4 line go through
# upstream SOCKS servers -- socks5d itself, scripted upstreams
# (helpers/fakeupstream.py) and Dante's sockd (tests/chain_dante.bats) --
# with failover, balance, upstream health, BIND, UDP refused and loops.
# Loopback only; the seed scenario in namespaces is tests/chain_seed.bats.

load lib/common

setup_file() {
	server_start E echohash
}

teardown() { cleanup_test; }
teardown_file() { cleanup_file; }

# upstream NAME [CONF-LINES...]: a socks5d upstream auditing to NAME.jsonl.
upstream() {
	local name=$1
	shift
	write_conf "$BATS_TEST_TMPDIR/$name.conf" "$@"
	daemon_start "$name" "$BATS_TEST_TMPDIR/$name.conf" -- \
	    -a "$BATS_TEST_TMPDIR/$name.jsonl"
}

# fake NAME MODE [fakeupstream.py options]: a scripted upstream; exports
# NAME_PORT, and NAME_OUT (its connection log).
fake() {
	local name=$1 mode=$2 pf
	shift 2
	pf="$BATS_TEST_TMPDIR/$name.port"
	rm -f "$pf"
	printf -v "${name}_OUT" %s "$BATS_TEST_TMPDIR/$name.out.log"
	export "${name}_OUT"
	: >"$BATS_TEST_TMPDIR/$name.out.log"
	bg "$name" "$PY" "$HELPERS/fakeupstream.py" "$mode" --port-file "$pf" \
	    --out "$BATS_TEST_TMPDIR/$name.out.log" "$@"
	wait_until 10 test -s "$pf" || { fail "fake upstream $name"; return 1; }
	printf -v "${name}_PORT" %s "$(cat "$pf")"
	export "${name}_PORT"
}

conns() { grep -c '^conn ' "$1" || true; }

# A port with nothing listening on it (bound and closed again).
dead_port() { free_port 127.0.0.1; }

# last_request FILE: KEY=VALUE lines of the last request record of FILE.
last_request() {
	jfields "$(audit_records "$1" event request | tail -n 1)"
}

@test "CONNECT by name through a socks5d upstream: the name reaches it unresolved, via in both records" {
	upstream U
	start "socks5 - - 127.0.0.1:$U_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d localhost -P "$E_PORT" send:hello shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline hello)"
	output=$(last_request "$AUDIT")
	assert_field via "127.0.0.1:$U_PORT"
	assert_field route socks5
	assert_field reply 0
	# The upstream saw the name, not an address: remote name resolution.
	output=$(last_request "$BATS_TEST_TMPDIR/U.jsonl")
	assert_field dest "localhost:$E_PORT"
	assert_field route direct
	output=$(jfields "$(audit_records "$AUDIT" event close | tail -n 1)")
	assert_field via "127.0.0.1:$U_PORT"
	assert_field bytes_out 5
}

@test "pipelined data and a server's first bytes pass through the chain" {
	server_start PEER peer
	upstream U
	start "socks5 - - 127.0.0.1:$U_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$PEER_PORT" recvline
	[ "$status" -eq 0 ] || fail "$output"
	assert_match "$(field line)" "^peer=127\.0\.0\.1:"
	run socks --pipeline -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" send:early shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field recv-text "$(hashline early)"
}

@test "a SOCKS4 client through a socks5 upstream gets 90; a socks4 line speaks SOCKS4a for a name" {
	upstream U
	start "socks4 - - 127.0.0.1:$U_PORT" "permit - - - - - -"
	run socks -v 4a -p "127.0.0.1:$D_PORT" -d localhost -P "$E_PORT" send:four shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 90
	assert_field recv-text "$(hashline four)"
	output=$(last_request "$BATS_TEST_TMPDIR/U.jsonl")
	assert_field version 4
	assert_field dest "localhost:$E_PORT"
	# A SOCKS5 client through the socks4 line, by address.
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" send:five shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline five)"
}

@test "failover: a closed first upstream, then a live one; via names the second" {
	local dead
	dead=$(dead_port)
	upstream U
	start "socks5 - - 127.0.0.1:$dead,127.0.0.1:$U_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" send:x shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	output=$(last_request "$AUDIT")
	assert_field via "127.0.0.1:$U_PORT"
	assert_field reply 0
}

@test "failover: a black-holed first upstream is left after its share of SOCKS5_NEGTIMEOUT" {
	fake B blackhole
	upstream U
	start "set SOCKS5_NEGTIMEOUT 4" \
	    "socks5 - - 127.0.0.1:$B_PORT,127.0.0.1:$U_PORT" "permit - - - - - -"
	local t0=$SECONDS
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" send:x shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline x)"
	# Its share is half of the 4 s: served after about 2 s, well before 4.
	[ $((SECONDS - t0)) -ge 1 ] || fail "served before the black hole's share passed"
	[ "$(conns "$B_OUT")" = 1 ] || fail "black hole not tried once"
	output=$(last_request "$AUDIT")
	assert_field via "127.0.0.1:$U_PORT"
}

@test "every upstream dead: reply 4 (SOCKS4: 91) and a reason naming both" {
	local d1 d2
	d1=$(dead_port)
	fake C closer
	start "socks5 - - 127.0.0.1:$d1,127.0.0.1:$C_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT"
	assert_field reply 4
	output=$(last_request "$AUDIT")
	assert_field reply 4
	assert_match "$(field reason)" "127\.0\.0\.1:$d1: connection refused; 127\.0\.0\.1:$C_PORT: closed the connection"
	field via >/dev/null && fail "via given although no upstream served"
	run socks -v 4 -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT"
	assert_field reply 91
}

@test "an upstream's reply 2 is final: passed on, the second upstream is not tried" {
	fake R reply --reply 05020001000000000000
	fake C closer
	start "set SOCKS5_UPSTREAM_RETRY 0" \
	    "socks5 - - 127.0.0.1:$R_PORT,127.0.0.1:$C_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d example.invalid -P 80
	assert_field reply 2
	[ "$(conns "$C_OUT")" = 0 ] || fail "second upstream was tried"
	# The request went up with the name as sent (ATYP 3).
	grep -q "^request 05010003$(printf '%02x' 15)$(printf example.invalid | od -An -tx1 | tr -d ' \n')0050\$" "$R_OUT" ||
	    fail "request upstream: $(cat "$R_OUT")"
	output=$(last_request "$AUDIT")
	assert_field via "127.0.0.1:$R_PORT"
	assert_field reply 2
}

@test "malformed upstream replies end the session with reply 1, never the master" {
	local hex
	for hex in 0500 04000001000000000000 05000009000000000000 050000030000 0500000300; do
		fake R reply --reply "$hex"
		start "socks5 - - 127.0.0.1:$R_PORT" "permit - - - - - -"
		run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT"
		assert_field reply 1 || fail "upstream reply $hex"
		alive "$D_PID" || fail "master gone after $hex"
		output=$(last_request "$AUDIT")
		assert_match "$(field reason)" "malformed reply|closed the connection" "reason for $hex"
		daemon_stop "$D_PID"
		kill_pid "$R_BGPID"
	done
}

@test "SOCKS5_BALANCE: 200 sessions over two upstreams each serve 30-70%" {
	upstream U1
	upstream U2
	start "set SOCKS5_BALANCE" \
	    "socks5 - - 127.0.0.1:$U1_PORT,127.0.0.1:$U2_PORT" "permit - - - - - -"
	run multiclient -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" -n 200 --threads 4 --size 16
	[ "$status" -eq 0 ] || fail "$output"
	local a b
	wait_until 10 eval '[ $(( $(audit_count "$BATS_TEST_TMPDIR/U1.jsonl" event close) + $(audit_count "$BATS_TEST_TMPDIR/U2.jsonl" event close) )) -ge 200 ]' || true
	a=$(audit_count "$BATS_TEST_TMPDIR/U1.jsonl" event request reply 0)
	b=$(audit_count "$BATS_TEST_TMPDIR/U2.jsonl" event request reply 0)
	echo "U1=$a U2=$b" >&3
	[ $((a + b)) -eq 200 ] || fail "served $a + $b"
	[ "$a" -ge 60 ] && [ "$a" -le 140 ] || fail "share of U1: $a of 200"
	# Without the flag the list order holds.
	start "socks5 - - 127.0.0.1:$U1_PORT,127.0.0.1:$U2_PORT" "permit - - - - - -"
	run multiclient -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" -n 20 --threads 2 --size 16
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(audit_count "$BATS_TEST_TMPDIR/U2.jsonl" event request reply 0)" = "$b" ] ||
	    fail "second upstream served without SOCKS5_BALANCE"
}

@test "health: a failed upstream is skipped until SOCKS5_UPSTREAM_RETRY passes, and a reload forgets it" {
	fake C closer
	upstream U
	start "set SOCKS5_UPSTREAM_RETRY 8" \
	    "socks5 - - 127.0.0.1:$C_PORT,127.0.0.1:$U_PORT" "permit - - - - - -"
	# Five sessions one after the other (one client process: seconds at
	# most, even on a loaded machine).
	run multiclient -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" -n 5 --threads 1 --size 8
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(conns "$C_OUT")" = 1 ] || fail "failed upstream tried $(conns "$C_OUT") times in 5 sessions"
	sleep 8.5
	run multiclient -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" -n 3 --threads 1 --size 8
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(conns "$C_OUT")" = 2 ] || fail "tried $(conns "$C_OUT") times: once again expected after the retry time"
	# Marked down again; a reload forgets it.
	kill -HUP "$D_PID"
	wait_until 10 grep -q "reloaded" "$D_LOG"
	run multiclient -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" -n 2 --threads 1 --size 8
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(conns "$C_OUT")" = 3 ] || fail "reload did not forget the failed upstream ($(conns "$C_OUT") tries)"
}

@test "health: when every upstream of a line is marked down, all are still tried" {
	fake C closer
	start "socks5 - - 127.0.0.1:$C_PORT" "permit - - - - - -"
	local i
	for i in 1 2 3; do
		run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT"
		assert_field reply 4
	done
	[ "$(conns "$C_OUT")" = 3 ] || fail "tried $(conns "$C_OUT") times in 3 sessions"
}

@test "BIND through a socks5d upstream: both replies passed through, the relay works" {
	upstream U
	start "socks5 - - 127.0.0.1:$U_PORT" "permit - - - - - -"
	run "$PY" "$HELPERS/bindclient.py" -p "127.0.0.1:$D_PORT" -d 127.0.0.1 --peer-src 127.0.0.1
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply1 0
	assert_field reply2 0
	assert_field relay ok
	# The first reply names the upstream's listening socket.
	output=$(audit_records "$BATS_TEST_TMPDIR/U.jsonl" event request cmd bind | head -n 1)
	[ -n "$output" ] || fail "upstream saw no BIND"
	[ "$(audit_count "$AUDIT" event request cmd bind via "127.0.0.1:$U_PORT")" = 2 ] ||
	    fail "two request records with via: $(cat "$AUDIT")"
}

@test "noproxy before a broader socks5 line connects directly; UDP through an upstream line gets 7" {
	local dead
	dead=$(dead_port)
	start "noproxy 127.0.0.1 $E_PORT" "socks5 - - 127.0.0.1:$dead" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" send:direct shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field recv-text "$(hashline direct)"
	output=$(last_request "$AUDIT")
	assert_field route direct
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.2 -P 9 --cmd 3
	assert_field reply 7
}

@test "a self-loop is refused as a loop, and the master keeps serving" {
	local p
	p=$(free_port)
	write_conf "$BATS_TEST_TMPDIR/loop.conf" "socks5 .loop.test - 127.0.0.1:$p" "permit - - - - - -"
	daemon_start D "$BATS_TEST_TMPDIR/loop.conf" --port "$p" -- -a "$BATS_TEST_TMPDIR/audit.jsonl"
	AUDIT="$BATS_TEST_TMPDIR/audit.jsonl"
	run socks -p "127.0.0.1:$D_PORT" -d www.loop.test -P 80
	assert_field reply 4
	output=$(last_request "$AUDIT")
	assert_match "$(field reason)" "loop"
	[ "$(audit_count "$AUDIT" event request)" = 1 ] || fail "the loop recursed"
	assert_serves "$D_PORT" "$E_PORT"
}

@test "a loop through two daemons is bounded by SOCKS5_MAXCHILD and leaves no runaway processes" {
	local pa pb
	pa=$(free_port)
	pb=$(free_port)
	write_conf "$BATS_TEST_TMPDIR/a.conf" "set SOCKS5_MAXCHILD 8" "set SOCKS5_NEGTIMEOUT 2" \
	    "socks5 .loop.test - 127.0.0.1:$pb" "permit - - - - - -"
	write_conf "$BATS_TEST_TMPDIR/b.conf" "set SOCKS5_MAXCHILD 8" "set SOCKS5_NEGTIMEOUT 2" \
	    "socks5 .loop.test - 127.0.0.1:$pa" "permit - - - - - -"
	daemon_start A "$BATS_TEST_TMPDIR/a.conf" --port "$pa" -- -a "$BATS_TEST_TMPDIR/a.jsonl"
	daemon_start B "$BATS_TEST_TMPDIR/b.conf" --port "$pb" -- -a "$BATS_TEST_TMPDIR/b.jsonl"
	run socks --timeout 20 -p "127.0.0.1:$A_PORT" -d www.loop.test -P 80
	assert_match "$(field reply)" "^[14]$" "reply to the looping request"
	# Both masters alive and serving others; the workers drain away.
	alive "$A_PID" && alive "$B_PID" || fail "a master died"
	wait_until 30 eval '[ $(daemon_children "$A_PID" | wc -l) -le 6 ] && [ $(daemon_children "$B_PID" | wc -l) -le 6 ]' ||
	    fail "workers left: $(daemon_children "$A_PID" | wc -l) + $(daemon_children "$B_PID" | wc -l)"
	assert_serves "$A_PORT" "$E_PORT"
	assert_serves "$B_PORT" "$E_PORT"
}

@test "the upstream password never reaches the audit file or the log; -t warns when the group can read it" {
	fake R reply --reply 05000001000000000000
	write_conf "$BATS_TEST_TMPDIR/pw.conf" "set SOCKS5_USER chainuser" "set SOCKS5_PASSWD Sekr1tPw" \
	    "socks5 - - 127.0.0.1:$R_PORT" "permit - - - - - -"
	chmod 0640 "$BATS_TEST_TMPDIR/pw.conf"
	run "$SOCKS5D" -t -f "$BATS_TEST_TMPDIR/pw.conf"
	assert_match "$output" "SOCKS5_PASSWD is set in a file that its group or every user can read"
	chmod 0600 "$BATS_TEST_TMPDIR/pw.conf"
	run "$SOCKS5D" -t -f "$BATS_TEST_TMPDIR/pw.conf"
	[[ $output != *SOCKS5_PASSWD* ]] || fail "warned for a 0600 file: $output"
	daemon_start D "$BATS_TEST_TMPDIR/pw.conf" -- -a "$BATS_TEST_TMPDIR/audit.jsonl"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT"
	assert_field reply 0
	! grep -q Sekr1tPw "$BATS_TEST_TMPDIR/audit.jsonl" "$D_LOG" || fail "password leaked"
}
