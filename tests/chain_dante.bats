#!/usr/bin/env bats
# Chaining through Dante's sockd (Debian dante-server) as the upstream
# (issue 9): without authentication, with RFC 1929 username/password
# against a system user this file creates and removes, and a socks4 line.
# Dante runs in the foreground, by pid, on 127.0.0.1.

load lib/common

DANTED=${DANTED:-/usr/sbin/danted}

setup_file() {
	[ -x "$DANTED" ] || skip "no $DANTED (Debian dante-server; contrib/deps.sh test installs it)"
	server_start E echohash
	# A system user for Dante's "socksmethod: username" (it checks the
	# password database); the name is unique to this run.
	DUSER="s5ch$$"
	DPASS="Chain-pw-$$"
	export DUSER DPASS
	useradd -M -N -s /usr/sbin/nologin "$DUSER"
	echo "$DUSER:$DPASS" | chpasswd
}

teardown() { cleanup_test; }
teardown_file() {
	cleanup_file
	[ -n "${DUSER:-}" ] && userdel "$DUSER" 2>/dev/null || true
}

# dante NAME METHOD: sockd on 127.0.0.1 with socksmethod METHOD; exports
# NAME_PORT.
dante() {
	local name=$1 method=$2 dir=$BATS_TEST_TMPDIR p
	p=$(free_port)
	cat >"$dir/$name.conf" <<-EOF
	logoutput: $dir/$name.dlog
	internal: 127.0.0.1 port = $p
	external: 127.0.0.1
	socksmethod: $method
	clientmethod: none
	user.privileged: root
	user.unprivileged: nobody
	client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
	socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
	EOF
	bg "$name" "$DANTED" -f "$dir/$name.conf" -p "$dir/$name.pid"
	wait_until 10 _listening "" "$p" || { fail "sockd did not start"; cat "$dir/$name.dlog" >&2; return 1; }
	printf -v "${name}_PORT" %s "$p"
	export "${name}_PORT"
}

@test "through Dante without authentication: CONNECT by name, via is Dante" {
	dante S none
	start "socks5 - - 127.0.0.1:$S_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d localhost -P "$E_PORT" send:dante shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline dante)"
	output=$(jfields "$(audit_records "$AUDIT" event request | tail -n 1)")
	assert_field via "127.0.0.1:$S_PORT"
	# curl through the chain, for a real client.
	make_www "$BATS_TEST_TMPDIR/www"
	server_start H http --dir "$BATS_TEST_TMPDIR/www"
	run curl_socks --socks5-hostname "127.0.0.1:$D_PORT" "http://localhost:$H_PORT/index.html"
	[ "$status" -eq 0 ] || fail "curl: $output"
	assert_eq "$output" "$(cat "$BATS_TEST_TMPDIR/www/index.html")" "page through the chain"
}

@test "through Dante with username/password (SOCKS5_USER, SOCKS5_PASSWD); a wrong password fails over and is named" {
	dante S username
	start "set SOCKS5_USER $DUSER" "set SOCKS5_PASSWD $DPASS" \
	    "socks5 - - 127.0.0.1:$S_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" send:auth shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline auth)"
	daemon_stop "$D_PID"
	start "set SOCKS5_USER $DUSER" "set SOCKS5_PASSWD wrong-$DPASS" \
	    "socks5 - - 127.0.0.1:$S_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT"
	assert_field reply 4
	output=$(jfields "$(audit_records "$AUDIT" event request | tail -n 1)")
	assert_match "$(field reason)" "127\.0\.0\.1:$S_PORT: authentication failed"
	! grep -q "$DPASS" "$AUDIT" "$D_LOG" || fail "password in the audit file or log"
	daemon_stop "$D_PID"
	# Without credentials, Dante's only method is not acceptable.
	start "socks5 - - 127.0.0.1:$S_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT"
	assert_field reply 4
	output=$(jfields "$(audit_records "$AUDIT" event request | tail -n 1)")
	assert_match "$(field reason)" "no acceptable authentication method"
}

@test "a socks4 line through Dante, from SOCKS5 and SOCKS4 clients" {
	dante S none
	start "socks4 - - 127.0.0.1:$S_PORT" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" send:v4up shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field recv-text "$(hashline v4up)"
	run socks -v 4 -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$E_PORT" send:v4v4 shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 90
	assert_field recv-text "$(hashline v4v4)"
	output=$(jfields "$(audit_records "$AUDIT" event request | tail -n 1)")
	assert_field via "127.0.0.1:$S_PORT"
	assert_field route socks4
}
