#!/usr/bin/env bats
# Unspecified destinations (0.0.0.0, ::, ::ffff:0.0.0.0) are refused for
# CONNECT and for UDP datagrams in every spelling: Linux connects them to
# the host's own loopback, past any `deny - - - 127. - -` line, because the
# rules only ever saw 0.0.0.0 (the class of Dante's CVE-2024-54662).  BIND
# keeps 0.0.0.0 as "any peer", and then checks the peer that really came.
#
# The daemon runs in a private mount namespace whose /etc/hosts also names
# sinkhole.test (0.0.0.0) and sinkhole6.test (::), for "a name that
# resolves to an unspecified address"; nothing under /etc is changed.

load lib/common

REASON="unspecified destination address"

setup_file() {
	local dir=$BATS_FILE_TMPDIR
	{
		echo "127.0.0.1 localhost"
		echo "::1 localhost ip6-localhost"
		echo "0.0.0.0 sinkhole.test"
		echo ":: sinkhole6.test"
	} >"$dir/hosts"
	# The daemon, in its own mount namespace with that hosts file.  exec
	# all the way down, so that the pid daemon_start sees is socks5d's.
	cat >"$dir/socks5d-hosts" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' \
    "$dir/hosts" "$SOCKS5D" "\$@"
EOF
	chmod +x "$dir/socks5d-hosts"
	unshare -m true 2>/dev/null || skip "cannot create a mount namespace"
	# Every loopback listener records each connection it gets: none of
	# the refused requests may reach one.
	server_start SINK4 sinkhash --out "$dir/reached"
	server_start SINK6 sinkhash --bind ::1 --out "$dir/reached"
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# start_hosts CONF-LINES...: the test's daemon D with the private hosts file.
start_hosts() {
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "$@"
	AUDIT="$BATS_TEST_TMPDIR/audit.jsonl"
	SOCKS5D="$BATS_FILE_TMPDIR/socks5d-hosts" \
	    daemon_start D "$BATS_TEST_TMPDIR/socks5.conf" -- -a "$AUDIT"
}

# refused VERSION DEST PORT [socksclient options]: the request is answered
# with reply 2 (SOCKS4: 91), audited with the reason, and reaches nothing.
refused() {
	local version=$1 dest=$2 port=$3 want=2
	shift 3
	[ "$version" = 5 ] || want=91
	run socks -p "127.0.0.1:$D_PORT" -v "$version" -d "$dest" -P "$port" \
	    "$@" send:leak shutdown recv
	echo "$output"
	assert_field reply "$want" "reply to $dest (SOCKS$version)" || return 1
	audit_records "$AUDIT" event request decision deny reason "$REASON" |
	    grep -qF "\"dest\":\"$(dest_shown "$dest" "$port")\"" ||
	    fail "no deny record with the reason for $dest" || return 1
	[ ! -s "$BATS_FILE_TMPDIR/reached" ] ||
	    fail "a loopback listener was reached: $(cat "$BATS_FILE_TMPDIR/reached")"
}

# dest_shown HOST PORT: the audit record's "dest" for it.
dest_shown() {
	case $1 in
	*:*) printf '[%s]:%s' "$1" "$2" ;;
	*) printf '%s:%s' "$1" "$2" ;;
	esac
}

@test "CONNECT past deny 127.: every spelling of the unspecified address is refused (SOCKS5)" {
	start_hosts "deny - - - 127. - -" "deny - - - ::1 - -" "permit - - - - - -"
	refused 5 0.0.0.0 "$SINK4_PORT"
	refused 5 :: "$SINK6_PORT"
	refused 5 ::ffff:0.0.0.0 "$SINK4_PORT"
	refused 5 0 "$SINK4_PORT" --atyp domain
	refused 5 0.0.0.0 "$SINK4_PORT" --atyp domain
	refused 5 :: "$SINK6_PORT" --atyp domain
	refused 5 sinkhole.test "$SINK4_PORT"
	refused 5 sinkhole6.test "$SINK6_PORT"
	# The rules themselves still refuse the loopback by its own name.
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$SINK4_PORT"
	assert_field reply 2
	assert_eq "$(audit_count "$AUDIT" event request dest "127.0.0.1:$SINK4_PORT" rule socks5.conf:4)" 1
}

@test "CONNECT: SOCKS4 DSTIP 0.0.0.0 and SOCKS4a names of it are refused with 91" {
	start_hosts "deny - - - 127. - -" "permit - - - - - -"
	refused 4 0.0.0.0 "$SINK4_PORT"
	refused 4a 0 "$SINK4_PORT"
	refused 4a 0.0.0.0 "$SINK4_PORT"
	refused 4a sinkhole.test "$SINK4_PORT"
}

@test "CONNECT: the refusal is built in, not a rule: permit-all still refuses 0.0.0.0 and serves 127.0.0.1" {
	server_start EH echohash
	start_hosts "permit - - - - - -"
	refused 5 0.0.0.0 "$SINK4_PORT"
	refused 4 0.0.0.0 "$SINK4_PORT"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT" send:ok shutdown recv
	assert_field reply 0
	assert_field recv-text "$(hashline ok)"
	# No line decided: the record names the reason, not a rule.
	run audit_records "$AUDIT" event request reason "$REASON"
	[[ $output != *'"rule"'* ]] || fail "a rule was named: $output"
}

udpc() {
	"$PY" "$HELPERS/udpclient.py" -p "127.0.0.1:$D_PORT" "$@"
}

# udp_dropped ECHO-PORT DEST-SHOWN [udpclient options]: the datagram gets no
# answer, reaches no echo server, and its drop is audited with the reason.
udp_dropped() {
	local ep=$1 shown=$2
	shift 2
	run udpc --echo-port "$ep" --count 1 "$@"
	echo "$output"
	assert_field reply 0 "the association itself is permitted" || return 1
	assert_field got none || return 1
	assert_field echo-seen 0 "datagrams that reached the loopback echo" || return 1
	audit_records "$AUDIT" event request cmd udp decision deny reason "$REASON" |
	    grep -qF "\"dest\":\"$shown\"" || fail "no drop record for $shown"
}

@test "UDP: datagrams to every spelling of the unspecified address are dropped and audited" {
	local ep
	ep=$(free_port)
	start_hosts "permit - - - - - -"
	udp_dropped "$ep" "0.0.0.0:$ep" --dest 0.0.0.0
	udp_dropped "$ep" "[::]:$ep" --dest ::
	udp_dropped "$ep" "[::ffff:0.0.0.0]:$ep" --dest ::ffff:0.0.0.0
	udp_dropped "$ep" "0:$ep" --name 0
	udp_dropped "$ep" "sinkhole.test:$ep" --name sinkhole.test
	udp_dropped "$ep" "sinkhole6.test:$ep" --name sinkhole6.test
	# The same association relays to a real address.
	run udpc --echo-port "$ep" --count 1 --dest 127.0.0.1
	assert_match "$output" "got=echo:dgram-0 from=127\\.0\\.0\\.1:$ep"
	assert_field echo-seen 1
}

bindc() {
	"$PY" "$HELPERS/bindclient.py" -p "127.0.0.1:$D_PORT" "$@"
}

@test "BIND to 0.0.0.0 still means any peer, and the rules see the peer that really came" {
	start_hosts "deny - - - 127.0.0.5 - -" "permit - - - - - -"
	run bindc -d 0.0.0.0 --peer-src 127.0.0.5 --peer-src 127.0.0.1
	echo "$output"
	assert_field reply1 0 "any peer may be expected"
	assert_field stray closed "the denied peer 127.0.0.5"
	assert_field reply2 0
	assert_match "$(field bnd2)" "^127\\.0\\.0\\.1:" "the admitted peer"
	assert_field relay ok
	run audit_records "$AUDIT" event request cmd bind decision deny
	assert_match "$output" '"dest":"127\.0\.0\.5:[0-9]+".*"rule":"socks5.conf:4".*"reason":"BIND: peer denied by rule"'
	# SOCKS4 BIND with DSTIP 0.0.0.0 is the same.
	run bindc -v 4 -d 0.0.0.0 --peer-src 127.0.0.5 --peer-src 127.0.0.1
	echo "$output"
	assert_field reply1 90
	assert_field stray closed
	assert_field reply2 90
	assert_field relay ok
}
