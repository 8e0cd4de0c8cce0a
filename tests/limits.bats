#!/usr/bin/env bats
# The master's limits on sessions (docs/socks5.conf-extensions.md section
# 11): SOCKS5_MAXCHILD_PER_SOURCE at accept and for the real client behind
# a load balancer (PROXY headers from helpers/proxysend.py on the trusted
# 127.0.0.1), a crash penalty that strikes the real client and not every
# client behind the balancer, SOCKS5_MAXCHILD_PER_USER with RFC 1929 users
# from a password file, and SOCKS5_MAXSTARTUPS / _PER_SOURCE against
# silent connections.

load lib/common

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "the limits tests need root (the sandbox)"
	server_start EH echohash
	server_start ECHO echo
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

up() {
	"$PY" "$HELPERS/upclient.py" "$@"
}

psend() {
	"$PY" "$HELPERS/proxysend.py" --to "127.0.0.1:$D_PORT" "$@"
}

# requests_from ADDR: permitted request records whose client is ADDR:*.
requests_from() {
	audit_records "$AUDIT" event request decision permit |
	    grep -c "\"client\":\"$1:" || true
}

# hold NAME SRC SECONDS: a permitted SOCKS5 session from SRC held open
# (until `release NAME` or SECONDS); returns once its request record is
# written.
hold() {
	HOLD_SRC=$2
	HOLD_BEFORE=$(requests_from "$2")
	bg "$1" socks -p "127.0.0.1:$D_PORT" --src "$2" -d 127.0.0.1 \
	    -P "$EH_PORT" "sleep:$3"
	wait_until 10 eval '[ "$(requests_from "$HOLD_SRC")" -gt "$HOLD_BEFORE" ]' ||
	    fail "session $1 from $2 was not served"
}

# silent NAME SRC N SECONDS: N connections from SRC that send nothing,
# held SECONDS; NAME.out gets "open=K" once all connects returned.
silent() {
	bg "$1" "$PY" -c 'import socket,sys,time
src, n, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[4])
ss = []
for i in range(n):
    s = socket.socket(); s.settimeout(10); s.bind((src, 0)); s.connect(("127.0.0.1", int(sys.argv[3])))
    ss.append(s)
print("open=%d" % len(ss), flush=True)
time.sleep(t)' "$2" "$3" "$D_PORT" "$4"
	wait_until 10 grep -q open= "$(_scope)/$1.out" ||
	    fail "silent connections $1 did not connect"
}

# release NAME: end a held client (ours, by pid); its worker sees the
# end of file and exits.
release() {
	local pidv="${1}_BGPID"
	kill_pid "${!pidv}" 5
	_forget "${!pidv}"
}

# closes_from ADDR: close records whose client is ADDR:*.
closes_from() {
	audit_records "$AUDIT" event close | grep -c "\"client\":\"$1:" || true
}

# bans RULE: the master's or a worker's refusal records naming RULE.
bans() {
	audit_count "$AUDIT" event ban decision deny rule "$1"
}

@test "SOCKS5_MAXCHILD_PER_SOURCE: the N+1st session from one address is closed with a record, another address is served meanwhile" {
	start "set SOCKS5_MAXCHILD_PER_SOURCE 2" "permit - - - - - -"
	hold H1 127.0.0.2 60
	hold H2 127.0.0.2 60
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.2 -d 127.0.0.1 -P "$EH_PORT"
	assert_match "$output" "error=(eof|reset) in method reply after 0 bytes" \
	    "the third session from 127.0.0.2"
	assert_eq "$(bans SOCKS5_MAXCHILD_PER_SOURCE)" 1 "per-source refusal records"
	assert_match "$(audit_records "$AUDIT" event ban rule SOCKS5_MAXCHILD_PER_SOURCE)" \
	    '"client":"127\.0\.0\.2:[0-9]+","rule":"SOCKS5_MAXCHILD_PER_SOURCE","reason":"too many sessions from this address"'
	# Another address, while both sessions of 127.0.0.2 still run.
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.3 -d 127.0.0.1 -P "$EH_PORT" \
	    send:other shutdown recv
	assert_field reply 0 "127.0.0.3 meanwhile"
	alive "$H1_BGPID" && alive "$H2_BGPID" || fail "a held session ended early"
	release H1
	release H2
	wait_until 10 eval '[ "$(closes_from 127.0.0.2)" -ge 2 ]' ||
	    fail "the held sessions did not end"
	# Both ended: 127.0.0.2 is served again.
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.2 -d 127.0.0.1 -P "$EH_PORT" \
	    send:again shutdown recv
	assert_field reply 0 "127.0.0.2 after its sessions ended"
}

@test "behind a load balancer SOCKS5_MAXCHILD_PER_SOURCE counts real clients, not the balancer" {
	start "set SOCKS5_PROXY_PROTOCOL 127.0.0.1" "set SOCKS5_MAXCHILD_PER_SOURCE 1" \
	    "permit - - - - - -"
	bg P1 psend --header v2 --claim 10.9.0.4:4000 --dport "$ECHO_PORT" --hold 60
	wait_until 10 grep -q echo= "$(_scope)/P1.out" || fail "the first proxied session was not served"
	# The same real client again, through the same balancer: refused.
	run psend --header v2 --claim 10.9.0.4:4001 --dport "$ECHO_PORT"
	assert_field closed 1 "second session of 10.9.0.4"
	assert_match "$(audit_records "$AUDIT" event ban rule SOCKS5_MAXCHILD_PER_SOURCE)" \
	    '"client":"10\.9\.0\.4:4001","lb":"127\.0\.0\.1:[0-9]+"'
	# Another real client behind the same balancer, meanwhile: served.
	run psend --header v1 --claim 10.9.0.5:4002 --dport "$ECHO_PORT"
	assert_field echo through-the-balancer "10.9.0.5 behind the same balancer"
	alive "$P1_BGPID" || fail "the held session ended early"
	assert_eq "$(bans SOCKS5_MAXCHILD_PER_SOURCE)" 1 "refusal records"
}

@test "a crash behind a load balancer penalises the real client, not the others behind it" {
	# A long penalty: the second try must come inside it on a loaded host.
	plain_segv
	start "set SOCKS5_PROXY_PROTOCOL 127.0.0.1" "set SOCKS5_PENALTY 300" \
	    "permit - - - - - -"
	local pid
	bg P1 psend --header v2 --claim 10.9.0.8:4000 --dport "$ECHO_PORT" --hold 60
	wait_until 10 grep -q echo= "$(_scope)/P1.out" || fail "the proxied session was not served"
	pid=$(audit_records "$AUDIT" event request client 10.9.0.8:4000 |
	    "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["pid"])')
	kill -SEGV "$pid"
	wait_until 5 eval '[ "$(audit_count "$AUDIT" event error pid "$pid")" -ge 1 ]' ||
	    fail "no error record for worker $pid"
	assert_match "$(audit_records "$AUDIT" event error pid "$pid")" \
	    '"client":"10\.9\.0\.8:4000","lb":"127\.0\.0\.1:[0-9]+".*"signal":11'
	run psend --header v2 --claim 10.9.0.8:4001 --dport "$ECHO_PORT"
	assert_field closed 1 "the crashed real client again"
	assert_match "$(audit_records "$AUDIT" event ban rule penalty)" '"client":"10\.9\.0\.8:4001"'
	run psend --header v2 --claim 10.9.0.9:4002 --dport "$ECHO_PORT"
	assert_field echo through-the-balancer "another real client behind the same balancer"
	run psend --header v1 --claim 10.9.0.10:4003 --dport "$ECHO_PORT"
	assert_field echo through-the-balancer "and another, with v1"
}

@test "SOCKS5_MAXCHILD_PER_USER: a third session of one RFC 1929 user is refused with reply 2, other users served" {
	local pf="$BATS_TEST_TMPDIR/socks5.passwd"
	printf 'alice alice-pw\nbob bob-pw\n' >"$pf"
	chmod 0600 "$pf"
	start "set SOCKS5_NOIDENT" "set SOCKS5_PWDFILE $pf" "set SOCKS5_MAXCHILD_PER_USER 2" \
	    "auth - - u" "permit u - - - - -"
	bg U1 up -p "127.0.0.1:$D_PORT" --src 127.0.0.2 -P "$EH_PORT" --hold 60 alice alice-pw
	bg U2 up -p "127.0.0.1:$D_PORT" --src 127.0.0.3 -P "$EH_PORT" --hold 60 alice alice-pw
	wait_until 10 eval 'grep -q reply=0 "$(_scope)/U1.out" && grep -q reply=0 "$(_scope)/U2.out"' ||
	    fail "alice's first two sessions were not served"
	run up -p "127.0.0.1:$D_PORT" --src 127.0.0.4 -P "$EH_PORT" alice alice-pw
	assert_field status 0 "alice's password is right"
	assert_field reply 2 "alice's third session"
	assert_eq "$(audit_count "$AUDIT" event request decision deny user alice \
	    rule SOCKS5_MAXCHILD_PER_USER reason 'too many sessions of this user')" 1 \
	    "per-user refusal record"
	run up -p "127.0.0.1:$D_PORT" --src 127.0.0.4 -P "$EH_PORT" bob bob-pw
	assert_field reply 0 "bob meanwhile"
	release U1
	release U2
	wait_until 10 eval '[ "$(audit_count "$AUDIT" event close user alice)" -ge 2 ]' ||
	    fail "alice's held sessions did not end"
	run up -p "127.0.0.1:$D_PORT" --src 127.0.0.4 -P "$EH_PORT" alice alice-pw
	assert_field reply 0 "alice once her sessions ended"
}

@test "SOCKS5_MAXSTARTUPS_PER_SOURCE: silent connections beyond the cap are dropped, negotiated ones do not count, another source is served" {
	start "set SOCKS5_NEGTIMEOUT 20" "set SOCKS5_MAXSTARTUPS_PER_SOURCE 3" \
	    "set SOCKS5_MAXSTARTUPS 0" "permit - - - - - -"
	# Three sessions that finished negotiating hold no startup slot.
	hold H1 127.0.0.2 60
	hold H2 127.0.0.2 60
	hold H3 127.0.0.2 60
	silent S1 127.0.0.2 6 60
	wait_until 10 eval '[ "$(bans SOCKS5_MAXSTARTUPS_PER_SOURCE)" -ge 3 ]' ||
	    fail "$(bans SOCKS5_MAXSTARTUPS_PER_SOURCE) drops of 6 silent connections (want 3)"
	sleep 0.5
	assert_eq "$(bans SOCKS5_MAXSTARTUPS_PER_SOURCE)" 3 "dropped silent connections"
	assert_match "$(audit_records "$AUDIT" event ban rule SOCKS5_MAXSTARTUPS_PER_SOURCE | head -1)" \
	    '"client":"127\.0\.0\.2:[0-9]+".*"reason":"too many connections from this address still negotiating"'
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.3 -d 127.0.0.1 -P "$EH_PORT" \
	    send:other shutdown recv
	assert_field reply 0 "another source while 127.0.0.2 holds its startups"
}

@test "SOCKS5_MAXSTARTUPS: at start connections negotiating, new ones are dropped early (rate 100)" {
	start "set SOCKS5_NEGTIMEOUT 20" "set SOCKS5_MAXSTARTUPS 4:100:50" \
	    "set SOCKS5_MAXSTARTUPS_PER_SOURCE 0" "permit - - - - - -"
	silent S1 127.0.0.2 4 60
	# The four are accepted and negotiating: the master must have seen
	# them before the next one comes.
	wait_until 10 eval '[ "$(audit_count "$AUDIT" event accept)" -ge 4 ]' ||
	    fail "the silent connections were not accepted"
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.3 -d 127.0.0.1 -P "$EH_PORT"
	assert_match "$output" "error=(eof|reset) in method reply after 0 bytes" \
	    "a new connection while 4 negotiate"
	assert_match "$(audit_records "$AUDIT" event ban rule SOCKS5_MAXSTARTUPS)" \
	    '"client":"127\.0\.0\.3:[0-9]+".*"reason":"early drop: too many connections negotiating"'
	release S1
	# The silent ones are gone: served again.
	wait_until 10 eval 'socks -p "127.0.0.1:$D_PORT" --src 127.0.0.3 -d 127.0.0.1 -P "$EH_PORT" | grep -q reply=0' ||
	    fail "not served once the silent connections closed"
}
