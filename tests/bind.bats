#!/usr/bin/env bats
# BIND (RFC 1928 section 4, SOCKS4 BIND): two replies, the peer check,
# the interface section choosing the listening address, the rules.

load lib/common

teardown() {
	cleanup_test
}

bindc() {
	"$PY" "$HELPERS/bindclient.py" -p "127.0.0.1:$D_PORT" "$@"
}

@test "SOCKS5 BIND: first reply is where to connect, second names the peer, data flows both ways" {
	start "permit - - - - - -"
	run bindc -d 127.0.0.1 --peer-src 127.0.0.1
	echo "$output"
	assert_field reply1 0
	assert_match "$(field bnd1)" "^127\\.0\\.0\\.1:[1-9][0-9]*$" "BND of the first reply"
	assert_field reply2 0
	assert_match "$(field bnd2)" "^127\\.0\\.0\\.1:" "peer in the second reply"
	assert_eq "$(field bnd2)" "$(field peer-local)" "the second reply names the peer exactly"
	assert_field relay ok
	assert_match "$(audit_records "$AUDIT" event request cmd bind)" '"reason":"BIND: peer 127\.0\.0\.1:'
}

@test "BIND: a connection from a host other than DST.ADDR is refused, the expected one served" {
	start "permit - - - - - -"
	run bindc -d 127.0.0.1 --peer-src 127.0.0.5 --peer-src 127.0.0.1
	echo "$output"
	assert_field reply1 0
	assert_field stray closed
	assert_field relay ok
	assert_match "$(audit_records "$AUDIT" event request decision deny cmd bind)" \
	    '"dest":"127\.0\.0\.5:.*BIND: connection from a host other than DST.ADDR'
}

@test "BIND: an interface line chooses the listening address" {
	start "interface 127.0.0.1 - 127.0.0.9" "permit - - - - - -"
	run bindc -d 127.0.0.1 --peer-src 127.0.0.1
	echo "$output"
	assert_match "$(field bnd1)" "^127\\.0\\.0\\.9:" "BND.ADDR from the interface line"
	assert_field relay ok
}

@test "SOCKS4 BIND: replies 90 with the port, and the relay works" {
	start "permit - - - - - -"
	run bindc -v 4 -d 127.0.0.1 --peer-src 127.0.0.1
	echo "$output"
	assert_field reply1 90
	assert_field reply2 90
	assert_field relay ok
}

@test "BIND and the rules: command b denied gives reply 2 while CONNECT is served" {
	server_start EH echohash
	start "deny - b - - - -" "permit - - - - - -"
	run bindc -d 127.0.0.1
	assert_field reply1 2
	run bindc -v 4 -d 127.0.0.1
	assert_field reply1 91
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0 "CONNECT"
	[ "$(audit_count "$AUDIT" event request cmd bind decision deny rule socks5.conf:4)" -eq 2 ]
}

@test "BIND: out of descriptors when the peer comes: reply 1 at once, no spin until the idle limit" {
	local dir=$BATS_TEST_TMPDIR pid f lowest
	start "permit - - - - - -"
	bg B "$PY" "$HELPERS/bindclient.py" -p "127.0.0.1:$D_PORT" -d 127.0.0.1 \
	    --peer-src 127.0.0.1 --ready "$dir/ready" --go "$dir/go" --timeout 8
	wait_until 10 test -e "$dir/ready" || fail "no first reply"
	pid=$(wait_until 5 worker_of "$(field local "$(cat "$dir/B.out")")" &&
	    worker_of "$(field local "$(cat "$dir/B.out")")") || fail "no worker"
	# The lowest descriptor the worker has free becomes its limit: the
	# accept of the peer must fail with EMFILE.
	lowest=0
	while [ -e "/proc/$pid/fd/$lowest" ]; do lowest=$((lowest + 1)); done
	# Another uid may not change its limits without CAP_SYS_RESOURCE, which
	# root lacks here: the worker's own uid and gid may.
	setpriv --reuid "$(id -u nobody)" --regid "$(id -g nobody)" --clear-groups \
	    prlimit --pid "$pid" --nofile="$lowest:$lowest"
	touch "$dir/go"
	bg_wait B 20
	echo "$output"
	assert_field reply1 0
	assert_field reply2 1 "the second reply says the BIND failed"
	assert_match "$(audit_records "$AUDIT" event request cmd bind reply 1)" \
	    '"reason":"BIND: cannot accept the peer"'
}
