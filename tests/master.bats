#!/usr/bin/env bats
# The master: many clients at once, reaping, SOCKS5_MAXCHILD, signals
# (TERM, INT, HUP), exit statuses, -V, deny rules, inetd mode, socket
# activation.  (Worker privileges are pinned in sandbox.bats.)

load lib/common

setup_file() {
	server_start EH echohash
	write_conf "$BATS_FILE_TMPDIR/socks5.conf"
	daemon_start M "$BATS_FILE_TMPDIR/socks5.conf"
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# zombies PID: how many descendants of PID (workers are the forker's
# children) are zombies.
zombies() {
	local n=0 p st
	for p in $(daemon_tree "$1"); do
		read -r st 2>/dev/null <"/proc/$p/stat" || continue
		st=${st##*) }
		[ "${st%% *}" = Z ] && n=$((n + 1))
	done
	echo "$n"
}

nchildren() {
	daemon_tree "$1" | wc -l | tr -d ' '
}

# wait_exit PID SECONDS: wait (bounded) for our child PID to exit; sets rc to
# its exit status, or to "running" if it did not exit in time.  (Not to be
# called in $(...): only this shell can reap the daemon.)
wait_exit() {
	rc=running
	if wait_until "$2" eval "! alive $1"; then
		rc=0
		wait "$1" || rc=$?
		_forget "$1"
	fi
}

@test "50 clients at once are all served" {
	run multiclient -p "127.0.0.1:$M_PORT" -P "$EH_PORT" -n 50 --together --size 20000
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "${lines[-1]}" "ok=50 fail=0"
}

@test "no zombies and no leftover workers after 200 sessions" {
	local base
	wait_until 10 eval '[ "$(zombies $M_PID)" -eq 0 ]' ||
	    fail "zombies before the run: $(ps -o pid,stat,args --ppid "$M_PID")"
	base=$(nchildren "$M_PID")
	run multiclient -p "127.0.0.1:$M_PORT" -P "$EH_PORT" -n 200 --threads 8 --size 100
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "${lines[-1]}" "ok=200 fail=0"
	wait_until 15 eval '[ "$(zombies $M_PID)" -eq 0 ] && [ "$(nchildren $M_PID)" -le $base ]' ||
	    fail "after 200 sessions: $(zombies "$M_PID") zombie(s), $(nchildren "$M_PID") descendants (before: $base): $(ps -o pid,ppid,stat,user,args $(daemon_tree "$M_PID"))"
}

@test "SIGTERM: new connections are refused, the open session finishes, exit 0" {
	write_conf "$BATS_TEST_TMPDIR/g.conf" "set SOCKS5_SHUTDOWN_GRACE 20" "permit - - - - - -"
	daemon_start G "$BATS_TEST_TMPDIR/g.conf"
	bg c socks -p "127.0.0.1:$G_PORT" -P "$EH_PORT" --go-timeout 40 send:before-term \
	    ready:"$BATS_TEST_TMPDIR/r" wait:"$BATS_TEST_TMPDIR/go" send:-after-term shutdown recv
	wait_until 10 test -e "$BATS_TEST_TMPDIR/r" || fail "session not established"
	kill -TERM "$G_PID"
	# new connections are refused (bounded wait for the signal to land)
	wait_until 5 eval '[ "$(socks -p 127.0.0.1:$G_PORT -P $EH_PORT --timeout 1 | grep ^error=)" = error=refused ]' ||
	    fail "new connection not refused after SIGTERM: $(socks -p "127.0.0.1:$G_PORT" -P "$EH_PORT" --timeout 1)"
	alive "$G_PID" || fail "daemon exited with a session still open (grace 20 s)"
	touch "$BATS_TEST_TMPDIR/go"
	bg_wait c 20
	[ "$status" -eq 0 ] || fail "held client: $output"
	assert_field recv-text "$(hashline before-term-after-term)"
	wait_exit "$G_PID" 30
	assert_eq "$rc" 0 "daemon exit status after SIGTERM"
}

@test "SIGTERM: a session still open after SOCKS5_SHUTDOWN_GRACE is cut, exit 0" {
	write_conf "$BATS_TEST_TMPDIR/g.conf" "set SOCKS5_SHUTDOWN_GRACE 1" "permit - - - - - -"
	daemon_start G "$BATS_TEST_TMPDIR/g.conf"
	bg c socks -p "127.0.0.1:$G_PORT" -P "$EH_PORT" --go-timeout 40 ready:"$BATS_TEST_TMPDIR/r" \
	    wait:"$BATS_TEST_TMPDIR/go" send:late shutdown recv
	wait_until 10 test -e "$BATS_TEST_TMPDIR/r" || fail "session not established"
	local kids
	kids=$(daemon_tree "$G_PID")
	[[ $(ps -o args= $kids) == *"socks5d: worker 127.0.0.1:"* ]] ||
	    fail "no worker among the daemon's descendants: $(ps -o pid,args $kids)"
	kill -TERM "$G_PID"
	wait_exit "$G_PID" 20
	assert_eq "$rc" 0 "daemon exit status after SIGTERM"
	for k in $kids; do
		wait_until 5 eval "! alive_socks5d $k" || fail "process $k survived the daemon"
	done
	touch "$BATS_TEST_TMPDIR/go"
	bg_wait c 20
	[ "$(field recv-text)" != "$(hashline late)" ] ||
	    fail "the session outlived the grace period: $output"
}

@test "SIGINT stops an idle daemon with exit 0" {
	daemon_start G "$BATS_FILE_TMPDIR/socks5.conf"
	kill -INT "$G_PID"
	wait_exit "$G_PID" 15
	assert_eq "$rc" 0 "exit status after SIGINT"
}

@test "usage errors exit 2" {
	run timeout 10 "$SOCKS5D" -Z
	assert_eq "$status" 2 "socks5d -Z"
	run timeout 10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" -l
	assert_eq "$status" 2 "socks5d -l (no argument)"
	run timeout 10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" stray-argument
	assert_eq "$status" 2 "socks5d stray-argument"
	run timeout 10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" -u no-such-user-here
	assert_eq "$status" 2 "socks5d -u (unknown user)"
	assert_match "$output" "no such user"
	run timeout 10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" -l 127.0.0.1:99999
	assert_eq "$status" 2 "socks5d -l with port 99999"
}

@test "configuration errors exit 1; -t reports FILE:LINE" {
	local bad="$BATS_TEST_TMPDIR/bad.conf" port
	port=$(free_port)
	printf 'permit - - - - - -\nthis is not a rule\n' >"$bad"
	run timeout 10 "$SOCKS5D" -f "$bad" -l "127.0.0.1:$port"
	assert_eq "$status" 1 "bad config"
	run timeout 10 "$SOCKS5D" -f "$BATS_TEST_TMPDIR/missing.conf" -l "127.0.0.1:$port"
	assert_eq "$status" 1 "missing config"
	printf 'set SOCKS5_MAXCHILD lots\npermit - - - - - -\n' >"$BATS_TEST_TMPDIR/bad2.conf"
	run timeout 10 "$SOCKS5D" -f "$BATS_TEST_TMPDIR/bad2.conf" -l "127.0.0.1:$port"
	assert_eq "$status" 1 "SOCKS5_MAXCHILD lots"
	run timeout 10 "$SOCKS5D" -t -f "$bad"
	assert_eq "$status" 1 "-t on a bad config"
	[[ $output == *"bad.conf:2:"* ]] || fail "-t output lacks bad.conf:2: '$output'"
	run timeout 10 "$SOCKS5D" -t -f "$BATS_FILE_TMPDIR/socks5.conf"
	assert_eq "$status" 0 "-t on a good config: $output"
}

@test "cannot bind (port in use) exits 3" {
	run timeout 10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" -l "127.0.0.1:$EH_PORT"
	assert_eq "$status" 3 "exit status with the port taken"
	run timeout 10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" -l "127.0.0.1:$M_PORT"
	assert_eq "$status" 3 "exit status with the port taken by another socks5d"
}

@test "-V prints the version and exits 0" {
	run timeout 10 "$SOCKS5D" -V
	assert_eq "$status" 0 "-V exit status"
	assert_match "$output" '[0-9]+\.[0-9]+' "-V output"
}

@test "a deny rule gives SOCKS5 reply 2 and SOCKS4 reply 91" {
	# deny one destination port, permit the rest: "none" is offered (a
	# permit line can match), the request for that port is denied
	write_conf "$BATS_TEST_TMPDIR/d.conf" "deny - - - - - $EH_PORT" "permit - - - - - -"
	daemon_start D "$BATS_TEST_TMPDIR/d.conf"
	run socks -p "127.0.0.1:$D_PORT" -P "$EH_PORT" send:x shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field method 00
	assert_field reply 2
	assert_field closed eof
	run socks -p "127.0.0.1:$D_PORT" -v 4 -P "$EH_PORT" send:x shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 91
	assert_field closed eof
}

@test "deny everything: SOCKS5 gets no acceptable method (0xFF), SOCKS4 reply 91" {
	# SPEC: "none" is offered only where a permit line could then match
	write_conf "$BATS_TEST_TMPDIR/d.conf" "deny - - - - - -"
	daemon_start D "$BATS_TEST_TMPDIR/d.conf"
	run socks -p "127.0.0.1:$D_PORT" -P "$EH_PORT" send:x shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field method ff
	assert_field closed eof
	run socks -p "127.0.0.1:$D_PORT" -v 4 -P "$EH_PORT" send:x shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 91
	assert_field closed eof
}

@test "SOCKS5_MAXCHILD 2: a third client waits for a free slot, then is served" {
	local t=$BATS_TEST_TMPDIR
	write_conf "$t/x.conf" "set SOCKS5_MAXCHILD 2" "permit - - - - - -"
	daemon_start X "$t/x.conf"
	bg c1 socks -p "127.0.0.1:$X_PORT" -P "$EH_PORT" --go-timeout 40 send:one \
	    ready:"$t/r1" wait:"$t/go1" shutdown recv
	bg c2 socks -p "127.0.0.1:$X_PORT" -P "$EH_PORT" --go-timeout 40 send:two \
	    ready:"$t/r2" wait:"$t/go2" shutdown recv
	wait_until 10 eval "test -e $t/r1 && test -e $t/r2" || fail "two sessions not established"
	# the third gets no answer at all while two are held ...
	bg c3 socks -p "127.0.0.1:$X_PORT" -P "$EH_PORT" --timeout 30 --silence 2 \
	    --silence-file "$t/silent3" send:three shutdown recv
	if ! wait_until 15 test -e "$t/silent3"; then
		bg_wait c3 5
		fail "third client answered while 2 sessions were held: $output"
	fi
	# ... and is served once one of them ends
	touch "$t/go1"
	bg_wait c1 20
	assert_field recv-text "$(hashline one)"
	bg_wait c3 30
	[ "$status" -eq 0 ] || fail "third client: $output"
	assert_field reply 0
	assert_field recv-text "$(hashline three)"
	touch "$t/go2"
	bg_wait c2 20
	assert_field recv-text "$(hashline two)"
}

@test "SIGHUP reloads the rules; a session held across the reload is not cut" {
	local t=$BATS_TEST_TMPDIR
	write_conf "$t/socks5.conf"
	daemon_start H "$t/socks5.conf"
	bg c socks -p "127.0.0.1:$H_PORT" -P "$EH_PORT" --go-timeout 30 send:held- \
	    ready:"$t/r" wait:"$t/go" send:across-hup shutdown recv
	wait_until 10 test -e "$t/r" || fail "session not established"
	write_conf "$t/socks5.conf" "deny - - - - - $EH_PORT" "permit - - - - - -"
	kill -HUP "$H_PID"
	# bounded wait until the new rules answer
	wait_until 10 eval '[ "$(socks -p 127.0.0.1:$H_PORT -P $EH_PORT | grep ^reply=)" = reply=2 ]' ||
	    fail "after SIGHUP the deny rule is not in force: $(socks -p "127.0.0.1:$H_PORT" -P "$EH_PORT")"
	alive "$H_PID" || fail "daemon died on SIGHUP"
	touch "$t/go"
	bg_wait c 20
	[ "$status" -eq 0 ] || fail "held session: $output"
	assert_field recv-text "$(hashline held-across-hup)"
}

@test "SIGHUP with a broken config keeps the old rules and the daemon" {
	local t=$BATS_TEST_TMPDIR n
	write_conf "$t/socks5.conf"
	daemon_start H "$t/socks5.conf"
	printf 'permit - - - - - -\nthis is not a rule\n' >"$t/socks5.conf"
	n=$(wc -l <"$H_LOG")
	kill -HUP "$H_PID"
	# let the reload attempt happen (it logs something), bounded
	wait_until 5 eval '[ "$(wc -l <"$H_LOG")" -gt $n ]' || true
	alive "$H_PID" || fail "daemon exited on a broken config at SIGHUP"
	run socks -p "127.0.0.1:$H_PORT" -P "$EH_PORT" send:still shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline still)"
}

@test "inetd mode (-i): serves the client on stdin, then exits 0" {
	local t=$BATS_TEST_TMPDIR
	bg inetd "$PY" "$HELPERS/launch.py" inetd --port-file "$t/port" \
	    --status-file "$t/status" -- "$SOCKS5D" -i -f "$BATS_FILE_TMPDIR/socks5.conf"
	wait_until 10 test -s "$t/port" || fail "launcher did not start"
	run socks -p "127.0.0.1:$(cat "$t/port")" -P "$EH_PORT" send:inetd shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline inetd)"
	wait_until 20 test -s "$t/status" || fail "socks5d -i did not exit"
	assert_eq "$(cat "$t/status")" 0 "exit status of socks5d -i"
}

@test "inetd mode (-i): raw bytes in, the expected reply out" {
	local t=$BATS_TEST_TMPDIR closed
	closed=$(free_port)
	# greeting + CONNECT 127.0.0.1:closed in one write: 05 00, then reply 5
	bg inetd "$PY" "$HELPERS/launch.py" inetd --port-file "$t/port" \
	    --status-file "$t/status" -- "$SOCKS5D" -i -f "$BATS_FILE_TMPDIR/socks5.conf"
	wait_until 10 test -s "$t/port" || fail "launcher did not start"
	run socks -p "127.0.0.1:$(cat "$t/port")" --raw "050100050100017f000001$(printf %04x "$closed")"
	[ "$status" -eq 0 ] || fail "$output"
	# method 00, then VER 5 REP 5 RSV 0 and a whole BND (IPv4 or IPv6)
	[[ $(field recv) =~ ^0500050500(01[0-9a-f]{12}|04[0-9a-f]{36})$ ]] ||
	    fail "reply bytes: $output"
	assert_field end eof
	wait_until 20 test -s "$t/status" || fail "socks5d -i did not exit"
}

@test "systemd socket activation (LISTEN_PID/LISTEN_FDS) is served" {
	local t=$BATS_TEST_TMPDIR
	bg sd "$PY" "$HELPERS/launch.py" systemd --port-file "$t/port" -- \
	    "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf"
	wait_until 10 test -s "$t/port" || fail "launcher did not start"
	run socks -p "127.0.0.1:$(cat "$t/port")" -P "$EH_PORT" send:activated shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline activated)"
	kill -TERM "$sd_BGPID"
	bg_wait sd 15
	assert_eq "$status" 0 "exit status after SIGTERM"
}

@test "out of descriptors: no fork loop, no log flood, the daemon survives" {
	local port log="$BATS_TEST_TMPDIR/emfile.log"
	port=$(free_port)
	# Ten descriptors: the master starts, but it, the forkers and workers cannot
	# make their relay pipes.  Each failure must back off, not respawn.
	bg EMF prlimit --nofile=10:10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" \
	    -l "127.0.0.1:$port"
	wait_until 10 _listening "" "$port" || fail "daemon did not start"
	timeout 5 "$PY" -c 'import socket,sys,time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
time.sleep(2)' "$port" || true
	local lines
	lines=$(wc -l <"$BATS_TEST_TMPDIR/EMF.out")
	cat "$BATS_TEST_TMPDIR/EMF.out" | sort | uniq -c | sort -rn | head -5
	[ "$lines" -lt 60 ] || fail "$lines log lines in about 2 s: a spawn loop"
	alive "$EMF_BGPID" || fail "the daemon died"
}
