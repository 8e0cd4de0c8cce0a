#!/usr/bin/env bats
# The seed scenario end to end (issue 9), in network namespaces this file
# creates so that the seed's own addresses can exist:
#
#   client (10.0.4.2, 10.0.3.2)
#     -> Socks-D1  10.0.4.1 | 192.168.100.1   conf/examples/socks-d1.conf
#     -> Socks-P1  192.168.100.2 | 172.31.0.1  conf/examples/socks-p1.conf
#     -> www.private-net.org = 172.31.0.10, a name only P1 can resolve
#        (a private /etc/hosts bound in P1's own mount namespace)
#   client -> Socks-Int1 10.0.3.1 | 198.51.100.1 conf/examples/socks-int1.conf
#     -> a web server on 198.51.100.80:80, for a client that authenticates
#        (PAM service "socks5" from a private /etc/pam.d in Int1's mount
#        namespace)
#
# The three files are used as they are in conf/examples.  Nothing is
# written under /etc; every namespace is deleted in teardown.

load lib/common

EXAMPLES="$BATS_TEST_DIRNAME/../conf/examples"

setup() {
	NSP="s5seed$$"
	for n in c d1 p1 w i1 web; do
		ip netns add "$NSP-$n" || skip "cannot create network namespaces"
		echo "$NSP-$n" >>"$BATS_TEST_TMPDIR/namespaces"
		ip netns exec "$NSP-$n" ip link set lo up
	done
	# link A ADDR-A B ADDR-B: a veth pair between namespaces A and B.
	link() {
		local a=$NSP-$1 b=$NSP-$3 ia="v$RANDOM" ib="v$RANDOM"
		ip link add "$ia" netns "$a" type veth peer name "$ib" netns "$b"
		ip netns exec "$a" ip addr add "$2" dev "$ia"
		ip netns exec "$b" ip addr add "$4" dev "$ib"
		ip netns exec "$a" ip link set "$ia" up
		ip netns exec "$b" ip link set "$ib" up
	}
	link c 10.0.4.2/24 d1 10.0.4.1/24
	link d1 192.168.100.1/24 p1 192.168.100.2/24
	link p1 172.31.0.1/16 w 172.31.0.10/16
	link c 10.0.3.2/24 i1 10.0.3.1/24
	link i1 198.51.100.1/24 web 198.51.100.80/24
}

teardown() {
	cleanup_test
	local n
	[ -f "$BATS_TEST_TMPDIR/namespaces" ] || return 0
	while read -r n; do
		ip netns del "$n" 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/namespaces"
}

# nsx NS CMD...: run CMD in this file's namespace NS.
nsx() {
	local ns=$NSP-$1
	shift
	ip netns exec "$ns" "$@"
}

# wrapper NAME TARGET FILE: a socks5d that starts in a new mount namespace
# with FILE bound over TARGET (daemon_start runs it like the real binary;
# unshare and sh exec, so the pid stays the daemon's).
wrapper() {
	local w="$BATS_TEST_TMPDIR/$1-socks5d"
	printf '#!/bin/sh\nexec unshare -m --propagation private sh -c '\''mount --bind "$0" "$1" && shift && exec "$@"'\'' %s %s %s "$@"\n' \
	    "$3" "$2" "$SOCKS5D" >"$w"
	chmod 0755 "$w"
	echo "$w"
}

@test "the three seed files pass socks5d -t on hosts that have their addresses" {
	run nsx d1 "$SOCKS5D" -t -f "$EXAMPLES/socks-d1.conf"
	[ "$status" -eq 0 ] || fail "D1: $output"
	run nsx p1 "$SOCKS5D" -t -f "$EXAMPLES/socks-p1.conf"
	[ "$status" -eq 0 ] || fail "P1: $output"
	run nsx i1 "$SOCKS5D" -t -f "$EXAMPLES/socks-int1.conf"
	[ "$status" -eq 0 ] || fail "Int1: $output"
}

@test "client -> D1 -> P1 -> www.private-net.org: the name reaches P1 unresolved and P1 resolves it" {
	local real=$SOCKS5D dir=$BATS_TEST_TMPDIR wport
	printf '127.0.0.1 localhost\n172.31.0.10 www.private-net.org\n' >"$dir/p1-hosts"
	# The destination: tells each connection where it came from.
	bg W ip netns exec "$NSP-w" "$PY" "$HELPERS/servers.py" peer --bind 172.31.0.10 --port-file "$dir/w.port"
	wait_until 10 test -s "$dir/w.port" || fail "destination did not start"
	wport=$(cat "$dir/w.port")

	SOCKS5D=$(wrapper p1 /etc/hosts "$dir/p1-hosts")
	daemon_start P1 "$EXAMPLES/socks-p1.conf" --ns "$NSP-p1" -- \
	    -l 192.168.100.2:1080 -a "$dir/p1.jsonl"
	SOCKS5D=$real
	daemon_start D1 "$EXAMPLES/socks-d1.conf" --ns "$NSP-d1" -- \
	    -l 10.0.4.1:1080 -a "$dir/d1.jsonl"
	wait_until 10 _listening "$NSP-p1" 1080 || fail "P1 not listening on 1080"
	wait_until 10 _listening "$NSP-d1" 1080 || fail "D1 not listening on 1080"

	# D1 itself cannot resolve the name (P1's hosts file is P1's alone).
	run nsx d1 getent hosts www.private-net.org
	[ "$status" -ne 0 ] || fail "D1 resolves the private name: $output"

	run nsx c "$PY" "$HELPERS/socksclient.py" -p 10.0.4.1:1080 -d www.private-net.org -P "$wport" recvline
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	# P1 connected from 172.31.0.1, its interface line for the private net.
	assert_match "$(field line)" "^peer=172\.31\.0\.1:"

	output=$(jfields "$(audit_records "$dir/d1.jsonl" event request | tail -n 1)")
	assert_field route socks5
	assert_field via 192.168.100.2:1080
	assert_field dest "www.private-net.org:$wport"
	assert_match "$(field client)" "^10\.0\.4\.2:"
	# P1 got the name, from D1's subsidiary-side address.
	output=$(jfields "$(audit_records "$dir/p1.jsonl" event request | tail -n 1)")
	assert_field dest "www.private-net.org:$wport"
	assert_field route direct
	assert_field reply 0
	assert_match "$(field client)" "^192\.168\.100\.1:"

	# A request by address is not chained by D1, and P1 would deny it
	# anyway: D1 has no route to 172.31/16 and answers a failure.
	run nsx c "$PY" "$HELPERS/socksclient.py" -p 10.0.4.1:1080 -d 172.31.0.10 -P "$wport"
	[ "$(field reply)" != 0 ] || fail "an address in the private net was reached: $output"
}

@test "Int1 answers a client that authenticates, and refuses one that does not" {
	local real=$SOCKS5D dir=$BATS_TEST_TMPDIR
	mkdir -p "$dir/pam.d" "$dir/www"
	cp -a /etc/pam.d/. "$dir/pam.d/"
	cat >"$dir/check-pass" <<-'SH'
	#!/bin/sh
	IFS= read -r pw || true
	[ "$PAM_USER" = alice ] && [ "$pw" = seedpw ]
	SH
	chmod 0755 "$dir/check-pass"
	printf 'auth required pam_exec.so expose_authtok quiet %s\naccount required pam_permit.so\n' \
	    "$dir/check-pass" >"$dir/pam.d/socks5"
	make_www "$dir/www"
	bg WEB ip netns exec "$NSP-web" "$PY" -m http.server 80 --bind 198.51.100.80 --directory "$dir/www"
	wait_until 10 _listening "$NSP-web" 80 || fail "web server did not start"

	SOCKS5D=$(wrapper i1 /etc/pam.d "$dir/pam.d")
	daemon_start I1 "$EXAMPLES/socks-int1.conf" --ns "$NSP-i1" -- \
	    -l 10.0.3.1:1080 -a "$dir/i1.jsonl"
	SOCKS5D=$real
	run nsx c curl -sS --max-time 20 -x "socks5h://alice:seedpw@10.0.3.1:1080" http://198.51.100.80/index.html
	[ "$status" -eq 0 ] || fail "curl with the password: $output"
	assert_eq "$output" "$(cat "$dir/www/index.html")" "page through Int1"
	run nsx c curl -sS --max-time 20 -x "socks5h://alice:wrong@10.0.3.1:1080" http://198.51.100.80/index.html
	[ "$status" -ne 0 ] || fail "a wrong password was served"
	run nsx c curl -sS --max-time 20 -x "socks5h://10.0.3.1:1080" http://198.51.100.80/index.html
	[ "$status" -ne 0 ] || fail "a client without a password was served"
	[ "$(audit_count "$dir/i1.jsonl" event request decision permit reply 0)" = 1 ] ||
	    fail "expected one permitted request: $(cat "$dir/i1.jsonl")"
	! grep -q seedpw "$dir/i1.jsonl" || fail "password in the audit file"
}
