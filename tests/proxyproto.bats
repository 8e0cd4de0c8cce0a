#!/usr/bin/env bats
# Several gateways behind a real HAProxy with the PROXY protocol
# (SOCKS5_PROXY_PROTOCOL): HAProxy on 127.0.0.1 balances over socks5d on
# 127.0.0.2 and 127.0.0.3 with send-proxy-v2 and LOCAL health checks; the
# real client (curl --interface 127.0.0.x) is the client for permit, ban
# and every record, HAProxy is `lb`.  Then the raw sender
# (helpers/proxysend.py): v1 and v2 from a trusted address, a header from
# an untrusted one, and each kind of missing or malformed header.

load lib/common

GW_CONF_LINES=(
	"set SOCKS5_PROXY_PROTOCOL 127.0.0.1"
	"ban 127.0.0.6 -"
	"permit - - 127.0.0.4 - - -"
	"permit - - 127.0.0.7 - - -"
)

setup_file() {
	command -v haproxy >/dev/null ||
	    skip "haproxy is not installed (contrib/deps.sh test installs it)"
	make_www "$BATS_FILE_TMPDIR/www"
	server_start WEB http --dir "$BATS_FILE_TMPDIR/www"
	server_start ECHO echo
	stack_up "$BATS_FILE_TMPDIR"
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# gw_start NAME ADDR DIR: socks5d listening on ADDR only, configured with
# GW_CONF_LINES, auditing to DIR/NAME.jsonl; exports NAME_PID, NAME_PORT,
# NAME_AUDIT.  The pid goes to the scope's daemon list for cleanup.
gw_start() {
	local name=$1 addr=$2 dir=$3 port pid
	write_conf "$dir/$name.conf" "${GW_CONF_LINES[@]}"
	port=$(free_port "$addr")
	"$SOCKS5D" -f "$dir/$name.conf" -l "$addr:$port" -a "$dir/$name.jsonl" \
	    >>"$dir/$name.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$(_scope)/.daemons"
	wait_until 10 eval "! alive $pid || _listening '' $port" && alive "$pid" ||
	    { fail "gateway $name did not start"; cat "$dir/$name.log" >&2; return 1; }
	printf -v "${name}_PID" %s "$pid"
	printf -v "${name}_PORT" %s "$port"
	printf -v "${name}_AUDIT" %s "$dir/$name.jsonl"
	export "${name}_PID" "${name}_PORT" "${name}_AUDIT"
}

# hap_status SERVER: HAProxy's status of backend server SERVER (UP, DOWN,
# ...) from its stats socket.
hap_status() {
	"$PY" -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b"show stat\n"); d = b""
while True:
    c = s.recv(65536)
    if not c: break
    d += c
for l in d.decode().splitlines():
    f = l.split(",")
    if len(f) > 17 and f[0] == "gateways" and f[1] == sys.argv[2]:
        print(f[17].split()[0])' "$HAP_SOCK" "$1"
}

hap_up() { # SERVER...
	local s
	for s in "$@"; do
		[ "$(hap_status "$s")" = UP ] || return 1
	done
}

# stack_up DIR: gateways G2 (127.0.0.2) and G3 (127.0.0.3), HAProxy in
# front on 127.0.0.1:HAP_PORT, both servers UP.
stack_up() {
	local dir=$1
	gw_start G2 127.0.0.2 "$dir"
	gw_start G3 127.0.0.3 "$dir"
	export HAP_PORT HAP_SOCK="$dir/hap.sock"
	HAP_PORT=$(free_port 127.0.0.1)
	cat >"$dir/haproxy.cfg" <<-CFG
	global
	    stats socket $HAP_SOCK mode 600 level admin
	defaults
	    mode tcp
	    timeout connect 2s
	    timeout client 30s
	    timeout server 30s
	frontend socks
	    bind 127.0.0.1:$HAP_PORT
	    default_backend gateways
	backend gateways
	    balance roundrobin
	    source 127.0.0.1
	    server g2 127.0.0.2:$G2_PORT send-proxy-v2 check check-send-proxy inter 200ms fall 2 rise 1
	    server g3 127.0.0.3:$G3_PORT send-proxy-v2 check check-send-proxy inter 200ms fall 2 rise 1
	CFG
	bg HAP haproxy -db -f "$dir/haproxy.cfg"
	wait_until 10 _listening '' "$HAP_PORT" ||
	    { fail "haproxy did not start"; cat "$(_scope)/HAP.out" >&2; return 1; }
	wait_until 10 hap_up g2 g3 ||
	    { fail "haproxy did not see both gateways UP"; cat "$(_scope)/HAP.out" >&2; return 1; }
}

# fetch SRC: curl from SRC through HAProxy; prints the HTTP status (000
# when the SOCKS server refused).
fetch() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
	    --interface "$1" --socks5 "127.0.0.1:$HAP_PORT" \
	    "http://127.0.0.1:$WEB_PORT/index.html" || true
}

# both_audits KEY VALUE...: matching records of both gateways.
both_audits() {
	audit_records "$G2_AUDIT" "$@"
	audit_records "$G3_AUDIT" "$@"
}

# fields_of KEYS...: from JSON lines on stdin, the KEYS of each, tab-separated.
fields_of() {
	"$PY" -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); print("\t".join(str(r.get(k)) for k in sys.argv[1:]))' "$@"
}

@test "curl through HAProxy: both gateways serve, client is curl's address, lb is HAProxy" {
	local i n2 n3
	for i in 1 2 3 4 5 6; do
		assert_eq "$(fetch 127.0.0.4)" 200 "fetch $i from 127.0.0.4"
	done
	n2=$(audit_count "$G2_AUDIT" event request decision permit)
	n3=$(audit_count "$G3_AUDIT" event request decision permit)
	[ "$n2" -ge 1 ] && [ "$n3" -ge 1 ] ||
	    fail "not balanced over both: g2 $n2, g3 $n3 request records"
	assert_eq "$((n2 + n3))" 6 "permitted requests"
	# Every request and close record names curl as client, HAProxy's
	# address (from its source port, not the frontend's) as lb.
	run bash -c "$(declare -f both_audits audit_records fields_of); G2_AUDIT=$G2_AUDIT G3_AUDIT=$G3_AUDIT PY=$PY; both_audits event request | fields_of client lb; both_audits event close | fields_of client lb"
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 12 ] || fail "expected 12 records: $output"
	local line
	while IFS=$'\t' read -r client lb; do
		assert_match "$client" '^127\.0\.0\.4:[0-9]+$' "client"
		assert_match "$lb" '^127\.0\.0\.1:[0-9]+$' "lb"
		[ "$lb" != "127.0.0.1:$HAP_PORT" ] || fail "lb is the frontend address"
	done <<<"$output"
}

@test "health checks (PROXY v2 LOCAL) leave no request or close records" {
	local before2 before3
	before2=$(audit_count "$G2_AUDIT" event close)
	before3=$(audit_count "$G3_AUDIT" event close)
	# inter 200ms: a second is about five checks per gateway.
	sleep 1.2
	hap_up g2 g3 || fail "a gateway is not UP"
	assert_eq "$(audit_count "$G2_AUDIT" event close)" "$before2" "g2 close records during checks"
	assert_eq "$(audit_count "$G3_AUDIT" event close)" "$before3" "g3 close records during checks"
	assert_eq "$(both_audits event request client 127.0.0.1 | wc -l)" 0 "records naming HAProxy as client"
	# The checks did reach the gateways (their accept records).
	[ "$(audit_count "$G2_AUDIT" event accept)" -gt 6 ] ||
	    fail "no health check reached g2"
}

@test "a permit line for the real client: 127.0.0.4 admitted, 127.0.0.5 refused behind HAProxy" {
	assert_eq "$(fetch 127.0.0.4)" 200 "from 127.0.0.4"
	assert_eq "$(fetch 127.0.0.5)" 000 "from 127.0.0.5"
	# No permit line can match 127.0.0.5, so method "none" is not even
	# offered: the refusal is an auth record naming the real client.
	local recs
	recs=$(both_audits event auth decision deny | fields_of client lb)
	assert_match "$recs" '127\.0\.0\.5:[0-9]+	127\.0\.0\.1:[0-9]+' "deny record"
	assert_eq "$(both_audits event auth decision deny | grep -c '"client":"127.0.0.4:')" 0 \
	    "denials of 127.0.0.4"
}

@test "a ban line on the real client works behind HAProxy" {
	assert_eq "$(fetch 127.0.0.6)" 000 "from banned 127.0.0.6"
	local recs
	recs=$(both_audits event ban | fields_of client lb rule)
	assert_match "$recs" '^127\.0\.0\.6:[0-9]+	127\.0\.0\.1:[0-9]+	G[23]\.conf:[0-9]+$' "ban record"
	assert_eq "$(both_audits client "$(both_audits event ban | fields_of client | head -1)" | wc -l)" 1 \
	    "only the ban record for that session"
	assert_eq "$(fetch 127.0.0.4)" 200 "127.0.0.4 still served"
}

@test "PROXY v1 and v2 from the trusted address name the client" {
	run "$PY" "$HELPERS/proxysend.py" --to "127.0.0.2:$G2_PORT" --header v1 \
	    --claim 127.0.0.7:41001 --dport "$ECHO_PORT"
	assert_field reply 0
	assert_field echo through-the-balancer
	run "$PY" "$HELPERS/proxysend.py" --to "127.0.0.3:$G3_PORT" --header v2 \
	    --claim 127.0.0.7:41002 --dport "$ECHO_PORT"
	assert_field reply 0
	assert_field echo through-the-balancer
	assert_eq "$(audit_count "$G2_AUDIT" event close client 127.0.0.7:41001)" 1 "v1 close record"
	assert_eq "$(audit_count "$G3_AUDIT" event close client 127.0.0.7:41002)" 1 "v2 close record"
	assert_match "$(audit_records "$G2_AUDIT" event request client 127.0.0.7:41001 | fields_of lb)" \
	    '^127\.0\.0\.1:[0-9]+$' "v1 lb"
	# v1's health check form closes quietly too.
	run "$PY" "$HELPERS/proxysend.py" --to "127.0.0.2:$G2_PORT" --header v1unknown
	assert_field closed 1
}

@test "a PROXY header from an untrusted address is refused as a SOCKS error" {
	local before
	before=$(audit_count "$G2_AUDIT" event request)
	run "$PY" "$HELPERS/proxysend.py" --src 127.0.0.8 --to "127.0.0.2:$G2_PORT" \
	    --header v1 --claim 127.0.0.4:41003 --dport "$ECHO_PORT"
	assert_field closed 1
	assert_eq "$(audit_count "$G2_AUDIT" client 127.0.0.4:41003)" 0 "records for the claimed client"
	assert_eq "$(audit_count "$G2_AUDIT" event request)" "$before" "request records"
	local recs
	recs=$(audit_records "$G2_AUDIT" event close reason "protocol error" | fields_of client lb)
	assert_match "$recs" '127\.0\.0\.8:[0-9]+	None' "close record for the sender"
}

# bad_header KIND REASON: the trusted address sends KIND; the gateway
# closes, writes a close record with REASON naming HAProxy's address, and
# still serves.
bad_header() {
	local before
	before=$(audit_count "$G2_AUDIT" event close reason "$2")
	run "$PY" "$HELPERS/proxysend.py" --to "127.0.0.2:$G2_PORT" --header "$1" \
	    --dport "$ECHO_PORT"
	[ "$status" -eq 0 ] || fail "proxysend: $output"
	assert_field closed 1
	wait_until 5 eval "[ \$(audit_count '$G2_AUDIT' event close reason '$2') -gt $before ]" ||
	    fail "no close record with reason '$2'"
	assert_match "$(audit_records "$G2_AUDIT" event close reason "$2" | tail -1 | fields_of client)" \
	    '^127\.0\.0\.1:[0-9]+$' "client of the record"
	run "$PY" "$HELPERS/proxysend.py" --to "127.0.0.2:$G2_PORT" --header v2 \
	    --claim 127.0.0.7:41010 --dport "$ECHO_PORT"
	assert_field echo through-the-balancer
}

@test "trusted sender without a header: closed and audited, the gateway keeps serving" {
	bad_header none "no PROXY header from a load balancer"
}

@test "trusted sender, wrong v2 signature: closed and audited" {
	bad_header badsig "no PROXY header from a load balancer"
}

@test "trusted sender, truncated v2 header then EOF: closed and audited" {
	bad_header truncated "load balancer closed inside a PROXY header"
}

@test "trusted sender, v2 length beyond the packet: closed at the deadline and audited" {
	bad_header longlen "PROXY header incomplete at the negotiation deadline"
}

@test "trusted sender, v2 over UDP (unknown family for us): closed and audited" {
	bad_header unkfam "PROXY header: family is not TCP over IPv4 or IPv6"
}

@test "stopping one gateway sends every new session to the other" {
	# Its own stack, so the shared one stays whole for the other tests.
	stack_up "$BATS_TEST_TMPDIR"
	assert_eq "$(fetch 127.0.0.4)" 200 "before"
	daemon_stop "$G3_PID"
	_forget "$G3_PID"
	wait_until 10 eval '[ "$(hap_status g3)" = DOWN ]' ||
	    fail "HAProxy never marked g3 DOWN"
	local before i
	before=$(audit_count "$G2_AUDIT" event request decision permit)
	for i in 1 2 3 4 5 6; do
		assert_eq "$(fetch 127.0.0.4)" 200 "fetch $i after g3 stopped"
	done
	assert_eq "$(audit_count "$G2_AUDIT" event request decision permit)" \
	    "$((before + 6))" "sessions served by g2"
}
