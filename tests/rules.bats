#!/usr/bin/env bats
# The socks5.conf rule engine end to end: ban, auth, source and destination
# rules, first match wins, the default deny, reply codes, the audit "rule"
# field, interface lines, -t, and SIGHUP reloads.

load lib/common

setup_file() {
	server_start EH echohash
	server_start PEER peer
	make_www "$BATS_FILE_TMPDIR/www"
	server_start WWW http --dir "$BATS_FILE_TMPDIR/www"
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
	if [ -f "$BATS_TEST_TMPDIR/netns" ]; then
		ip netns del "$(cat "$BATS_TEST_TMPDIR/netns")" 2>/dev/null || true
	fi
}

# line_of TEXT: the line number of TEXT in the test's socks5.conf.
line_of() {
	grep -nxF -- "$1" "$BATS_TEST_TMPDIR/socks5.conf" | head -1 | cut -d: -f1
}

fetch() { # [curl options]: fetch the test page through D; prints the code
	curl_socks -o /dev/null -w '%{http_code}' "$@" --socks5 "127.0.0.1:$D_PORT" \
	    "http://127.0.0.1:$WWW_PORT/index.html" || true
}

@test "source address rules: 127.0.0.2 denied (SOCKS4 91 with its line; SOCKS5 no method), 127.0.0.1 served" {
	start "deny - - 127.0.0.2 - - -" "permit - - 127. - - -"
	assert_eq "$(fetch)" 200 "from 127.0.0.1"
	# No permit line can match 127.0.0.2, so SOCKS5 "none" is not even
	# offered (SPEC: absent auth section); SOCKS4 reaches the access rules.
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.2 -d 127.0.0.1 -P "$EH_PORT"
	assert_field method ff
	run socks -p "127.0.0.1:$D_PORT" -v 4 --src 127.0.0.2 -d 127.0.0.1 -P "$EH_PORT"
	assert_field reply 91
	local rec
	rec=$(audit_records "$AUDIT" event request decision deny)
	assert_match "$rec" '"client":"127\.0\.0\.2:' "denied client"
	assert_match "$rec" "\"rule\":\"socks5.conf:$(line_of 'deny - - 127.0.0.2 - - -')\"" "rule"
	assert_match "$rec" '"reply":91' "reply in the record"
}

@test "first match wins: a permit above a wider deny lets 127.0.0.3 through" {
	start "permit - - 127.0.0.3 - - -" "deny - - 127. - - -" "permit - - - - - -"
	assert_eq "$(fetch --interface 127.0.0.3)" 200 "127.0.0.3 (permit first)"
	assert_eq "$(fetch)" 000 "127.0.0.1 (deny before the catch-all permit)"
	run socks -p "127.0.0.1:$D_PORT" -v 4 -d 127.0.0.1 -P "$EH_PORT"
	assert_field reply 91
	[ "$(audit_count "$AUDIT" event request decision deny rule "socks5.conf:$(line_of 'deny - - 127. - - -')")" -eq 1 ]
}

@test "destination port rules: a range admits the web server's port only" {
	start "permit - c 127. 127.0.0.1 - [$WWW_PORT,$WWW_PORT]"
	assert_eq "$(fetch)" 200 "port inside [a,b]"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT"
	assert_field reply 2
	assert_eq "$(audit_count "$AUDIT" event request decision deny rule default)" 1 \
	    "the refused port is denied by default"
}

@test "the default deny: SOCKS5 reply 2 and SOCKS4 reply 91, rule \"default\"" {
	start "permit - - 127. 10. - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT"
	assert_field reply 2
	run socks -p "127.0.0.1:$D_PORT" -v 4 -d 127.0.0.1 -P "$EH_PORT"
	assert_field reply 91
	run socks -p "127.0.0.1:$D_PORT" -v 4a -d localhost -P "$EH_PORT"
	assert_field reply 91
	assert_eq "$(audit_count "$AUDIT" event request decision deny rule default)" 3
}

@test "ban: a banned address is closed before any reply, and audited" {
	start "ban 127.0.0.4 -" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.4 -d 127.0.0.1 -P "$EH_PORT"
	assert_match "$output" "error=(eof|reset) in method reply after 0 bytes"
	assert_match "$(audit_records "$AUDIT" event ban)" \
	    "\"client\":\"127\\.0\\.0\\.4:.*\"rule\":\"socks5.conf:$(line_of 'ban 127.0.0.4 -')\""
	assert_eq "$(fetch)" 200 "an address that is not banned"
}

@test "auth lines: an auth line without n refuses method none with 0xFF" {
	start "auth 127.0.0.6 - u" "auth - - n" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.6 -d 127.0.0.1 -P "$EH_PORT"
	assert_field method ff
	run socks -p "127.0.0.1:$D_PORT" --src 127.0.0.6 -v 4 -d 127.0.0.1 -P "$EH_PORT"
	assert_field reply 91 "SOCKS4 (method n) from 127.0.0.6"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT" send:x shutdown recv
	assert_field method 00
	[ "$(audit_count "$AUDIT" event auth decision deny)" -ge 1 ]
}

@test "a domain name is matched by name, and by its resolved address" {
	# In a namespace of its own with only lo: a name that is not in
	# /etc/hosts is looked up in DNS, which must not leave this machine.
	local ns="socks5d-rules-$$"
	ip netns add "$ns" || skip "cannot create a network namespace"
	echo "$ns" >"$BATS_TEST_TMPDIR/netns"
	ip netns exec "$ns" ip link set lo up
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" \
	    "deny - - - .denied.test - -" "permit - c - localhost - -" \
	    "permit - c - 127.0.0.2 - -"
	AUDIT="$BATS_TEST_TMPDIR/audit.jsonl"
	daemon_start N "$BATS_TEST_TMPDIR/socks5.conf" --ns "$ns" -- -a "$AUDIT"
	nsocks() { ip netns exec "$ns" "$PY" "$HELPERS/socksclient.py" -p "127.0.0.1:$N_PORT" "$@"; }
	# Nothing listens in the namespace: reply 5 (refused) proves the rules
	# let the request through to the connect.
	run nsocks -d localhost -P 9
	assert_field reply 5 "localhost, permitted by name"
	assert_match "$(audit_records "$AUDIT" event request dest localhost:9)" \
	    "\"rule\":\"socks5.conf:$(line_of "permit - c - localhost - -")\""
	run nsocks -d www.denied.test -P 9
	assert_field reply 2 "a name under a denied suffix"
	run nsocks -d 127.0.0.2 -P 9
	assert_field reply 5 "an address matched by an address line"
	run nsocks -d 127.0.0.3 -P 9
	assert_field reply 2 "an address no line permits"
	ip netns del "$ns"
}

@test "interface: the outgoing connection comes from the chosen local address" {
	start "interface 127.0.0.1 - 127.0.0.7" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$PEER_PORT" recvline
	assert_field reply 0
	assert_match "$(field line)" "^peer=127\\.0\\.0\\.7:" "source address seen by the destination"
	assert_match "$(field bnd)" "^127\\.0\\.0\\.7:" "BND.ADDR"
}

@test "interface: 20,000 short sessions through an interface line, none fails" {
	start "interface 127.0.0.1 - 127.0.0.8" "set SOCKS5_MAXCHILD 4096" "permit - - - - - -"
	local bench="$BATS_TEST_DIRNAME/../build/bench/socksbench" echo_port
	[ -x "$bench" ] || fail "build/bench/socksbench is missing (make check builds it)"
	echo_port=$(free_port)
	bg ECHO "$bench" serve-echo "127.0.0.1:$echo_port"
	wait_until 5 _listening "" "$echo_port" || fail "echo server did not start"
	run "$bench" sessions --proxy "127.0.0.1:$D_PORT" --dest "127.0.0.1:$echo_port" \
	    --concurrency 32 --count 20000 --max-seconds 120
	echo "$output"
	assert_field ok 20000
	assert_field failed 0
}

@test "-t: a good file exits 0; a bad one exits 1 with FILE:LINE for every error" {
	write_conf "$BATS_TEST_TMPDIR/good.conf" "permit - c 127. - - [1024,65535]"
	run "$SOCKS5D" -t -f "$BATS_TEST_TMPDIR/good.conf"
	assert_eq "$status" 0 "exit status, good file"
	printf 'permit - - 10 - - -\nfoo bar\npermit - c - - - (5,5)\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run "$SOCKS5D" -t -f "$BATS_TEST_TMPDIR/bad.conf"
	assert_eq "$status" 1 "exit status, bad file"
	assert_match "$output" "bad\\.conf:1: invalid host pattern '10'"
	assert_match "$output" "bad\\.conf:2: unknown keyword 'foo'"
	assert_match "$output" "bad\\.conf:3: "
}

@test "an unknown set variable: an error for -t, a warning for the running daemon" {
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "set SOCKS5_FROM_THE_FUTURE 1" \
	    "permit - - - - - -"
	run "$SOCKS5D" -t -f "$BATS_TEST_TMPDIR/socks5.conf"
	assert_eq "$status" 1 "-t"
	assert_match "$output" "socks5.conf:[0-9]+: unknown variable 'SOCKS5_FROM_THE_FUTURE'"
	daemon_start D "$BATS_TEST_TMPDIR/socks5.conf"
	grep -q "warning: unknown variable 'SOCKS5_FROM_THE_FUTURE' ignored" "$D_LOG" ||
	    fail "no warning logged"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0 "served"
}

@test "SIGHUP swaps the rules for new clients; a running session goes on" {
	start "permit - - - - - -"
	local ready="$BATS_TEST_TMPDIR/old.ready" go="$BATS_TEST_TMPDIR/old.go"
	bg OLD socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT" \
	    ready:"$ready" wait:"$go" send:old-session shutdown recv
	wait_until 10 test -e "$ready" || fail "the old session did not start"
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "deny - - - - - -"
	kill -HUP "$D_PID"
	wait_until 10 grep -q "reloaded" "$D_LOG" || fail "no reload logged"
	run socks -p "127.0.0.1:$D_PORT" -v 4 -d 127.0.0.1 -P "$EH_PORT"
	assert_field reply 91 "a SOCKS4 client under the new rules"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT"
	assert_field method ff "a SOCKS5 client: no method left to offer"
	touch "$go"
	bg_wait OLD 20
	assert_eq "$status" 0 "the old session"
	assert_eq "$(field recv-text)" "$(printf '%s' old-session | sha256sum | cut -d' ' -f1) 11\\n"
}

@test "SIGHUP with a broken file keeps the old rules and logs each error" {
	start "permit - - - - - -"
	printf 'permit - - 300.1.2.3 - - -\nnonsense\n' >"$BATS_TEST_TMPDIR/socks5.conf"
	kill -HUP "$D_PID"
	wait_until 10 grep -q "refused" "$D_LOG" || fail "the refusal was not logged"
	grep -q "socks5.conf:1: " "$D_LOG" || fail "error on line 1 not logged"
	grep -q "socks5.conf:2: " "$D_LOG" || fail "error on line 2 not logged"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0 "still served under the old rules"
}

@test "the seed's three gateways (conf/examples) pass -t on a host that owns their addresses" {
	local ns="socks5d-examples-$$" a f
	ip netns add "$ns" || skip "cannot create a network namespace"
	echo "$ns" >"$BATS_TEST_TMPDIR/netns"
	ip netns exec "$ns" ip link set lo up
	# The gateways' own interface addresses, on the namespace's loopback
	# only: -t checks ownership, nothing is sent anywhere.
	for a in 10.0.3.1 10.0.4.1 192.168.100.1 192.168.100.2 172.31.0.1 198.51.100.1; do
		ip -n "$ns" addr add "$a/32" dev lo
	done
	for f in "$BATS_TEST_DIRNAME"/../conf/examples/*.conf; do
		run ip netns exec "$ns" "$SOCKS5D" -t -f "$f"
		echo "$output"
		assert_eq "$status" 0 "-t $(basename "$f")"
		[[ $output != *warning* ]] || fail "$(basename "$f") has warnings"
	done
	# Here, where 10.0.3.1 is nobody's, the same file is refused.
	run "$SOCKS5D" -t -f "$BATS_TEST_DIRNAME/../conf/examples/socks-int1.conf"
	assert_eq "$status" 1 "-t on a host without the interface address"
	assert_match "$output" "socks-int1\\.conf:[0-9]+: .*10\\.0\\.3\\.1"
	ip netns del "$ns"
}

@test "set SOCKS5_BINDINTFC is the listen address when no -l is given" {
	local port
	port=$(free_port)
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "set SOCKS5_BINDINTFC 127.0.0.1:$port" \
	    "permit - - - - - -"
	bg B "$SOCKS5D" -f "$BATS_TEST_TMPDIR/socks5.conf"
	wait_until 10 _listening "" "$port" || fail "not listening on $port"
	run socks -p "127.0.0.1:$port" -d 127.0.0.1 -P 9
	assert_field reply 5 "served on the SOCKS5_BINDINTFC address"
}

@test "SOCKS5_BINDINTFC with a service name as the port: the daemon listens there" {
	# The first of a few named services whose port is free here (the
	# services database names ports; the loader resolves them at load).
	local name="" port="" s p
	for s in amanda webmin git x11 xmpp-client nut; do
		p=$(getent services "$s/tcp" | awk '{ split($2, a, "/"); print a[1] }')
		[ -n "$p" ] || continue
		if ! _listening "" "$p"; then
			name=$s
			port=$p
			break
		fi
	done
	[ -n "$name" ] || skip "no candidate service with a free port here"
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "set SOCKS5_BINDINTFC 127.0.0.1:$name" \
	    "permit - - - - - -"
	bg BN "$SOCKS5D" -f "$BATS_TEST_TMPDIR/socks5.conf"
	wait_until 10 _listening "" "$port" || fail "not listening on $name ($port)"
	run socks -p "127.0.0.1:$port" -d 127.0.0.1 -P 9
	assert_field reply 5 "served on $name ($port)"
}

@test "set SOCKS5_V4SUPPORT off refuses SOCKS4 and 4a (reply 91), SOCKS5 still served" {
	server_start EH2 echohash
	start "set SOCKS5_V4SUPPORT off" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -v 4 -d 127.0.0.1 -P "$EH2_PORT"
	assert_field reply 91
	run socks -p "127.0.0.1:$D_PORT" -v 4a -d localhost -P "$EH2_PORT"
	assert_field reply 91
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH2_PORT" send:x shutdown recv
	assert_field reply 0
	assert_match "$(audit_records "$AUDIT" event request version 4)" '"rule":"SOCKS5_V4SUPPORT"'
}
