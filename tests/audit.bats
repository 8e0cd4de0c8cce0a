#!/usr/bin/env bats
# The audit file (-a): JSON Lines, appended, one accept/request/close record
# per session with the fields of SPEC "Audit records"; written before the
# reply it explains; never torn under concurrency.

load lib/common

setup_file() {
	make_www "$BATS_FILE_TMPDIR/www"
	head -c 300000 /dev/urandom >"$BATS_FILE_TMPDIR/www/blob.bin"
	server_start WEB http --dir "$BATS_FILE_TMPDIR/www"
	server_start EH echohash
	server_start EH6 echohash --bind ::1
	mkdir -p "$BATS_FILE_TMPDIR/a"
	write_conf "$BATS_FILE_TMPDIR/a/socks5.conf"
	export AUDIT="$BATS_FILE_TMPDIR/audit.jsonl"
	echo '{"preexisting": "line kept by the daemon"}' >"$AUDIT"
	daemon_start A "$BATS_FILE_TMPDIR/a/socks5.conf" --v6 -- -a "$AUDIT"
	# the permit line is the last of the file
	PERMIT_LINE=$(wc -l <"$BATS_FILE_TMPDIR/a/socks5.conf" | tr -d ' ')
	export PERMIT_LINE
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# one_record FILE [KEY VALUE]...: exactly one record matches (bounded wait
# for it to appear); the record's fields go to $output as KEY=VALUE lines.
one_record() {
	local recs n args=("$@")
	wait_until 10 eval '[ "$(audit_count "${args[@]}")" -ge 1 ]'
	recs=$(audit_records "$@")
	n=$(printf '%s' "$recs" | grep -c '' || true)
	[ "$n" -eq 1 ] || { fail "$n records match [${*:2}] in the audit file: $recs"; return 1; }
	output=$(jfields "$recs")
}

# sessions_audited PORTSFILE BYTES_OUT: for each client port, exactly one
# request (reply 0) and one close record (bytes_out BYTES_OUT).
sessions_audited() {
	"$PY" -c 'import json,sys
ports = [l.strip() for l in open(sys.argv[2]) if l.strip()]
recs = {}
for line in open(sys.argv[1]):
    try: r = json.loads(line)
    except ValueError: continue
    recs.setdefault((r.get("client"), r.get("event")), []).append(r)
bad = 0
for p in ports:
    c = "127.0.0.1:" + p
    req, close = recs.get((c, "request"), []), recs.get((c, "close"), [])
    if len(req) != 1 or req[0].get("reply") != 0:
        bad += 1; print("%s: request records %r" % (c, req))
    if len(close) != 1 or close[0].get("bytes_out") != int(sys.argv[3]):
        bad += 1; print("%s: close records %r" % (c, close))
print("sessions=%d bad=%d" % (len(ports), bad))
sys.exit(1 if bad else 0)' "$AUDIT" "$@"
}

@test "an existing audit file is appended to, not truncated" {
	run curl_socks --socks5 "127.0.0.1:$A_PORT" "http://127.0.0.1:$WEB_PORT/index.html"
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "$(head -n 1 "$AUDIT")" '{"preexisting": "line kept by the daemon"}' "first line"
	[ "$(wc -l <"$AUDIT")" -gt 1 ] || fail "nothing appended"
}

@test "curl --socks5-hostname: accept, request and close records with the right fields" {
	local w lp hdr body req
	w=$(curl_socks --socks5-hostname "127.0.0.1:$A_PORT" -o "$BATS_TEST_TMPDIR/body" \
	    -w '%{local_port} %{size_header} %{size_download} %{size_request}' \
	    "http://localhost:$WEB_PORT/blob.bin") || fail "curl failed: $w"
	read -r lp hdr body req <<<"$w"
	assert_eq "$body" 300000 "body size"
	local client="127.0.0.1:$lp"

	one_record "$AUDIT" event accept client "$client"
	assert_field decision permit

	one_record "$AUDIT" event request client "$client"
	assert_field decision permit
	assert_field version 5
	assert_field method none
	assert_field cmd connect
	assert_field dest "localhost:$WEB_PORT"
	assert_field reply 0
	assert_match "$(field rule)" "(^|/)socks5\\.conf:$PERMIT_LINE\$" rule
	assert_match "$(field ts)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' ts
	assert_match "$(field pid)" '^[1-9][0-9]*$' pid
	local pid
	pid=$(field pid)

	one_record "$AUDIT" event close client "$client"
	assert_field bytes_in $((hdr + body))
	assert_field bytes_out "$req"
	assert_match "$(field duration_ms)" '^[0-9]+$' duration_ms
	assert_field pid "$pid"
	! field decision >/dev/null || fail "close record has a decision"
}

@test "SOCKS4 and SOCKS4a requests: version 4, reply 90, dest as asked" {
	run socks -p "127.0.0.1:$A_PORT" -v 4 -P "$EH_PORT" send:four shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	local c4
	c4=$(field local)
	run socks -p "127.0.0.1:$A_PORT" -v 4a -d localhost -P "$EH_PORT" send:four-a shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	local c4a
	c4a=$(field local)
	one_record "$AUDIT" event request client "$c4"
	assert_field version 4
	assert_field dest "127.0.0.1:$EH_PORT"
	assert_field reply 90
	assert_field cmd connect
	one_record "$AUDIT" event request client "$c4a"
	assert_field version 4
	assert_field dest "localhost:$EH_PORT"
	assert_field reply 90
	one_record "$AUDIT" event close client "$c4a"
	assert_field bytes_out 6
	assert_field bytes_in "$(($(hashline four-a | wc -c) - 1))"
}

@test "IPv6: client [::1]:PORT and dest [::1]:PORT" {
	run socks -p "[::1]:$A_PORT6" -d ::1 -P "$EH6_PORT" send:six shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	local c
	c=$(field local)
	assert_match "$c" '^\[::1\]:[0-9]+$' "client address"
	one_record "$AUDIT" event request client "$c"
	assert_field dest "[::1]:$EH6_PORT"
	assert_field reply 0
	one_record "$AUDIT" event close client "$c"
	assert_field bytes_out 3
}

@test "the request record is in the file when the reply reaches the client" {
	# the client reads the audit file the moment it has the reply
	run socks -p "127.0.0.1:$A_PORT" -P "$EH_PORT" auditcheck:"$AUDIT" send:x shutdown recv
	[ "$status" -eq 0 ] || fail "$output"
	assert_field reply 0
	assert_field audit-request 1
	assert_field recv-text "$(hashline x)"
	run socks -p "127.0.0.1:$A_PORT" -v 4 -P "$EH_PORT" auditcheck:"$AUDIT"
	assert_field reply 90
	assert_field audit-request 1
}

@test "a refused destination is audited with reply 5" {
	local closed
	closed=$(free_port)
	run socks -p "127.0.0.1:$A_PORT" -P "$closed"
	assert_field reply 5
	local c
	c=$(field local)
	wait_until 10 eval '[ "$(audit_count "$AUDIT" client "$c" reply 5)" -ge 1 ]' ||
	    fail "no record with reply 5 for $c: $(audit_records "$AUDIT" client "$c")"
	one_record "$AUDIT" event request client "$c"
	assert_field dest "127.0.0.1:$closed"
}

@test "a deny decision is audited: decision deny, reply 2, the deciding rule" {
	local t=$BATS_TEST_TMPDIR
	mkdir -p "$t/d"
	write_conf "$t/d/socks5.conf" "deny - - - - - $EH_PORT" "permit - - - - - -"
	local line
	line=$(grep -n '^deny' "$t/d/socks5.conf" | cut -d: -f1)
	daemon_start D "$t/d/socks5.conf" -- -a "$t/d.jsonl"
	run socks -p "127.0.0.1:$D_PORT" -P "$EH_PORT"
	assert_field reply 2
	local c
	c=$(field local)
	one_record "$t/d.jsonl" event request client "$c"
	assert_field decision deny
	assert_field reply 2
	assert_field dest "127.0.0.1:$EH_PORT"
	assert_match "$(field rule)" "(^|/)socks5\\.conf:$line\$" rule
	run audit_validate "$t/d.jsonl"
	[ "$status" -eq 0 ] || fail "$output"
}

@test "20 concurrent sessions: 20 request and 20 close records, every line valid JSON" {
	local t=$BATS_TEST_TMPDIR
	run multiclient -p "127.0.0.1:$A_PORT" -P "$EH_PORT" -n 20 --together --size 5000 \
	    --ports-file "$t/ports"
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "$(wc -l <"$t/ports" | tr -d ' ')" 20 "sessions"
	# every session has one request and one close record (bounded wait for
	# the close records), and the close counts the 5000 bytes sent
	wait_until 10 sessions_audited "$t/ports" 5000 >/dev/null
	run sessions_audited "$t/ports" 5000
	[ "$status" -eq 0 ] || fail "$output"
	run audit_validate "$AUDIT"
	[ "$status" -eq 0 ] || fail "$output"
}

@test "log rotation: after the file is moved away, SIGHUP makes new records go to a new file" {
	local audit="$BATS_TEST_TMPDIR/rot.jsonl"
	write_conf "$BATS_TEST_TMPDIR/socks5.conf"
	daemon_start R "$BATS_TEST_TMPDIR/socks5.conf" -- -a "$audit"
	run socks -p "127.0.0.1:$R_PORT" -d 127.0.0.1 -P "$EH_PORT" send:before shutdown recv
	assert_field reply 0
	mv "$audit" "$audit.1"
	kill -HUP "$R_PID"
	wait_until 10 grep -q "reloaded" "$R_LOG" || fail "no reload"
	run socks -p "127.0.0.1:$R_PORT" -d 127.0.0.1 -P "$EH_PORT" send:after shutdown recv
	assert_field reply 0
	wait_until 5 test -s "$audit" || fail "no new audit file after SIGHUP"
	wait_until 5 eval '[ "$(audit_count "$audit" event close)" -ge 1 ]' ||
	    fail "the new session's close record is not in the new file"
	[ "$(audit_count "$audit.1" event close)" -eq 1 ] ||
	    fail "the rotated file should hold exactly the first session"
	[ "$(stat -c %a "$audit")" = 600 ] || fail "new audit file mode $(stat -c %a "$audit")"
}
