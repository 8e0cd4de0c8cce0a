#!/usr/bin/env bats
# CONNECT through socks5d with real clients (curl, ncat, proxychains4,
# socksify) and the raw client: SOCKS4, SOCKS4a, SOCKS5 with IPv4, IPv6 and
# domain destinations, listeners on 127.0.0.1 and [::1], BND.ADDR/PORT.

load lib/common

setup_file() {
	make_www "$BATS_FILE_TMPDIR/www"
	server_start WEB http --dir "$BATS_FILE_TMPDIR/www"
	server_start WEB6 http --bind ::1 --dir "$BATS_FILE_TMPDIR/www"
	server_start PEER peer
	server_start PEER6 peer --bind ::1
	server_start ECHO echohash
	write_conf "$BATS_FILE_TMPDIR/socks5.conf"
	export AUDIT="$BATS_FILE_TMPDIR/audit.jsonl"
	daemon_start S "$BATS_FILE_TMPDIR/socks5.conf" --v6 -- -a "$AUDIT"
	export INDEX="$BATS_FILE_TMPDIR/www/index.html"
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# check_page: $output is exactly the index page.
check_page() {
	[ "$status" -eq 0 ] || fail "client exit status $status: $output" || return 1
	[ "$output" = "$(cat "$INDEX")" ] ||
	    fail "body differs from index.html: '$output'"
}

# assert_audited DEST: the daemon logged a permitted request for DEST (the
# proof that a client really went through the proxy, not around it).
assert_audited() {
	local dest=$1
	wait_until 5 eval '[ "$(audit_count "$AUDIT" event request dest "$dest")" -ge 1 ]' ||
	    fail "no audit request record for dest $dest (the client bypassed the proxy?)"
}

@test "curl --socks5: page from an IPv4 destination" {
	run curl_socks --socks5 "127.0.0.1:$S_PORT" "http://127.0.0.1:$WEB_PORT/index.html"
	check_page
}

@test "curl --socks5-hostname: the name is resolved by the proxy" {
	run curl_socks --socks5-hostname "127.0.0.1:$S_PORT" "http://localhost:$WEB_PORT/index.html"
	check_page
	assert_audited "localhost:$WEB_PORT"
}

@test "curl --socks4: page from an IPv4 destination" {
	run curl_socks --socks4 "127.0.0.1:$S_PORT" "http://127.0.0.1:$WEB_PORT/index.html"
	check_page
}

@test "curl --socks4a: the name is resolved by the proxy" {
	run curl_socks --socks4a "127.0.0.1:$S_PORT" "http://localhost:$WEB_PORT/index.html"
	check_page
	assert_audited "localhost:$WEB_PORT"
}

@test "curl --socks5: page from an IPv6 destination [::1]" {
	run curl_socks --socks5 "127.0.0.1:$S_PORT" "http://[::1]:$WEB6_PORT/index.html"
	check_page
}

@test "listener on [::1]: curl -x socks5h://[::1]:PORT" {
	run curl_socks -x "socks5h://[::1]:$S_PORT6" "http://localhost:$WEB_PORT/index.html"
	check_page
}

@test "listener on [::1]: SOCKS5 to an IPv6 destination" {
	run curl_socks -x "socks5://[::1]:$S_PORT6" "http://[::1]:$WEB6_PORT/index.html"
	check_page
}

@test "SOCKS5 IPv4 CONNECT: reply 0, BND is the address the destination sees" {
	run socks -p "127.0.0.1:$S_PORT" -d 127.0.0.1 -P "$PEER_PORT" recvline
	[ "$status" -eq 0 ] || fail "$output"
	assert_field method 00
	assert_field reply 0
	assert_field line "peer=$(field bnd)"
}

@test "SOCKS5 IPv6 CONNECT: reply 0, BND is the [::1] address the destination sees" {
	run socks -p "127.0.0.1:$S_PORT" -d ::1 -P "$PEER6_PORT" recvline
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_match "$(field bnd)" '^\[::1\]:[0-9]+$' bnd
	assert_field line "peer=$(field bnd)"
}

@test "SOCKS5 domain CONNECT (ATYP 3): data flows both ways" {
	run socks -p "127.0.0.1:$S_PORT" -d localhost -P "$ECHO_PORT" --atyp domain \
	    send:hello-domain shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_match "$(field bnd)" '^127\.0\.0\.1:[1-9][0-9]*$' bnd
	assert_field recv-text "$(printf hello-domain | sha256sum | cut -d' ' -f1) 12\\n"
}

@test "SOCKS4 and SOCKS4a CONNECT: reply 90, data flows both ways" {
	run socks -p "127.0.0.1:$S_PORT" -v 4 -d 127.0.0.1 -P "$ECHO_PORT" \
	    send:hello-v4 shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 90
	assert_field recv-text "$(printf hello-v4 | sha256sum | cut -d' ' -f1) 8\\n"
	run socks -p "127.0.0.1:$S_PORT" -v 4a -d localhost -P "$ECHO_PORT" \
	    send:hello-v4a shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 90
	assert_field recv-text "$(printf hello-v4a | sha256sum | cut -d' ' -f1) 9\\n"
}

@test "ncat --proxy-type socks5 and socks4 fetch the page" {
	server_start W2 http --dir "$BATS_FILE_TMPDIR/www"
	local t
	for t in socks5 socks4; do
		run timeout 30 ncat -w 10 --proxy "127.0.0.1:$S_PORT" --proxy-type "$t" \
		    127.0.0.1 "$W2_PORT" < <(printf 'GET /index.html HTTP/1.0\r\n\r\n')
		[ "$status" -eq 0 ] || fail "ncat $t: status $status: $output"
		[[ $output == "HTTP/1.0 200 OK"* ]] || fail "ncat $t: no 200: $output"
		[[ $output == *"$(cat "$INDEX")"* ]] || fail "ncat $t: body missing: $output"
	done
	assert_audited "127.0.0.1:$W2_PORT"
}

@test "proxychains4 runs curl through the daemon" {
	server_start W3 http --dir "$BATS_FILE_TMPDIR/www"
	cat >"$BATS_TEST_TMPDIR/proxychains.conf" <<-EOF
		strict_chain
		quiet_mode
		tcp_read_time_out 15000
		tcp_connect_time_out 8000
		[ProxyList]
		socks5 127.0.0.1 $S_PORT
	EOF
	run timeout 60 proxychains4 -q -f "$BATS_TEST_TMPDIR/proxychains.conf" \
	    curl -sS --max-time 30 "http://127.0.0.1:$W3_PORT/index.html"
	check_page
	assert_audited "127.0.0.1:$W3_PORT"
}

@test "socksify (dante-client) runs curl through the daemon" {
	server_start W4 http --dir "$BATS_FILE_TMPDIR/www"
	cat >"$BATS_TEST_TMPDIR/socks.conf" <<-EOF
		route {
			from: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = $S_PORT
			proxyprotocol: socks_v5
			method: none
		}
	EOF
	# without SOCKS_AUTOADD_LANROUTES=no dante goes direct to 127.0.0.0/8
	SOCKS_AUTOADD_LANROUTES=no SOCKS_CONF="$BATS_TEST_TMPDIR/socks.conf" \
	    run timeout 60 socksify \
	    curl -sS --max-time 30 "http://127.0.0.1:$W4_PORT/index.html"
	check_page
	assert_audited "127.0.0.1:$W4_PORT"
}
