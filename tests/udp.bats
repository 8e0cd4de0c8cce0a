#!/usr/bin/env bats
# UDP ASSOCIATE (RFC 1928 section 7): datagrams both ways with their
# headers, the rules per datagram, the interface section, strangers, and
# the end of the association with its TCP connection.

load lib/common

teardown() {
	cleanup_test
}

udpc() {
	"$PY" "$HELPERS/udpclient.py" -p "127.0.0.1:$D_PORT" "$@"
}

@test "UDP ASSOCIATE: datagrams go out and come back with the source in the header" {
	local ep
	ep=$(free_port)
	start "permit - - - - - -"
	run udpc --echo-port "$ep" --count 2
	echo "$output"
	assert_field reply 0
	assert_match "$(field bnd)" "^127\\.0\\.0\\.1:[1-9]"
	assert_match "$output" "got=echo:dgram-0 from=127\\.0\\.0\\.1:$ep"
	assert_match "$output" "got=echo:dgram-1 from=127\\.0\\.0\\.1:$ep"
	assert_match "$(audit_records "$AUDIT" event request cmd udp)" '"reply":0'
	wait_until 5 test "$(audit_count "$AUDIT" event close cmd udp)" -ge 1 ||
	    fail "no close record"
	assert_match "$(audit_records "$AUDIT" event close cmd udp)" '"bytes_out":14,"bytes_in":24'
}

@test "UDP: a destination given by name is resolved (localhost)" {
	local ep
	ep=$(free_port)
	start "permit - - - - - -"
	run udpc --echo-port "$ep" --name localhost --count 1
	echo "$output"
	assert_match "$output" "got=echo:dgram-0 from=127\\.0\\.0\\.1:$ep"
}

@test "UDP: each datagram goes through the rules; a denied one is dropped and audited" {
	local ep
	ep=$(free_port)
	start "deny - u - 127.0.0.1 - $ep" "permit - - - - - -"
	run udpc --echo-port "$ep" --count 1
	echo "$output"
	assert_field reply 0 "the association itself is permitted"
	assert_field got none
	assert_match "$(audit_records "$AUDIT" event request cmd udp decision deny)" \
	    "\"dest\":\"127\\.0\\.0\\.1:$ep\".*\"rule\":\"socks5.conf:4\".*datagram denied by rule"
}

@test "UDP: interface lines choose the client-side and the outgoing addresses" {
	local ep
	ep=$(free_port)
	start "interface 127.0.0.1 - 127.0.0.9" "permit - - - - - -"
	run udpc --echo-port "$ep" --count 1
	echo "$output"
	assert_match "$(field bnd)" "^127\\.0\\.0\\.9:" "BND.ADDR for the client 127.0.0.1"
	assert_match "$output" "got=echo:dgram-0 from=127\\.0\\.0\\.1:$ep seen=127\\.0\\.0\\.9:"
}

@test "UDP: a datagram from another host is not relayed" {
	local ep
	ep=$(free_port)
	start "permit - - - - - -"
	run udpc --echo-port "$ep" --count 1 --stranger 127.0.0.5
	echo "$output"
	assert_match "$output" "got=echo:dgram-0"
	assert_field stranger ignored
}

@test "UDP: with DST.PORT 0, a stranger sending first does not become the client" {
	local ep
	ep=$(free_port)
	start "permit - - - - - -"
	run udpc --echo-port "$ep" --count 1 --stranger-first 127.0.0.5
	echo "$output"
	assert_field stranger ignored
	assert_match "$output" "got=echo:dgram-0" "the real client is served after"
}

@test "UDP: the association ends with its TCP connection" {
	local ep
	ep=$(free_port)
	start "permit - - - - - -"
	run udpc --echo-port "$ep" --count 1 --after-close
	echo "$output"
	assert_field got none
	wait_until 5 test "$(audit_count "$AUDIT" event close cmd udp)" -ge 1 ||
	    fail "the worker did not end the association"
}

@test "UDP ASSOCIATE denied by the rules gets reply 2; SOCKS4 has no UDP (91)" {
	start "deny - u - - - -" "permit - - - - - -"
	run udpc --echo-port "$(free_port)" --count 1
	assert_field reply 2
	run socks -p "127.0.0.1:$D_PORT" -v 4 --cmd 3 -d 127.0.0.1 -P 9
	assert_field reply 91
}

@test "UDP: SOCKS5_UDPPORTRANGE bounds the relay socket's port" {
	local ep lo
	ep=$(free_port)
	lo=$(( ($(free_port) % 20000) + 30000 ))
	start "set SOCKS5_UDPPORTRANGE $lo-$((lo + 9))" "permit - - - - - -"
	run udpc --echo-port "$ep" --count 1
	echo "$output"
	local p=${output#*bnd=127.0.0.1:}
	p=${p%%$'\n'*}
	[ "$p" -ge "$lo" ] && [ "$p" -le $((lo + 9)) ] || fail "BND port $p outside $lo-$((lo + 9))"
	assert_match "$output" "got=echo:dgram-0"
}
