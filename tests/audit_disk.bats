#!/usr/bin/env bats
# The audit file on a full disk (a 64 KiB tmpfs in the daemon's own mount
# namespace): no torn record, the records lost counted in a "lost" record
# once writes succeed again, one log line per change of state, and
# SOCKS5_AUDIT_REQUIRED deciding whether sessions go on meanwhile.  And the
# floods a client can cause at will (denied UDP datagrams, connections
# refused at accept) written only up to a burst, the rest counted in a
# "summary" record.

load lib/common

setup_file() {
	local dir=$BATS_FILE_TMPDIR
	unshare -m true 2>/dev/null || skip "cannot create a mount namespace"
	mkdir -p "$dir/disk"
	# The daemon, with a private tmpfs at $dir/disk; exec all the way
	# down so that the pid daemon_start sees is socks5d's.  The test
	# reaches the tmpfs through /proc/PID/root.
	cat >"$dir/socks5d-disk" <<EOF2
#!/bin/sh
exec unshare -m --propagation private sh -c \
    'mount -t tmpfs -o size=64k,mode=0755 tmpfs "\$0" && exec "\$@"' \
    "$dir/disk" "$SOCKS5D" "\$@"
EOF2
	chmod +x "$dir/socks5d-disk"
	server_start EH echohash
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# start_disk CONF-LINES...: daemon D auditing to the tmpfs; DISK is the
# tmpfs as the test sees it, AUDIT the file on it.
start_disk() {
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "$@"
	SOCKS5D="$BATS_FILE_TMPDIR/socks5d-disk" daemon_start D \
	    "$BATS_TEST_TMPDIR/socks5.conf" -- -a "$BATS_FILE_TMPDIR/disk/audit.jsonl"
	DISK="/proc/$D_PID/root$BATS_FILE_TMPDIR/disk"
	AUDIT="$DISK/audit.jsonl"
}

# session: one SOCKS5 CONNECT to the echo server; "ok" if it relayed.
session() {
	local out
	out=$(socks -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT" --timeout 5 \
	    send:x shutdown recv 2>&1)
	case $out in
	*reply=0*recv-len=*) echo ok ;;
	*) echo refused ;;
	esac
}

fill_disk() {
	dd if=/dev/zero of="$DISK/fill" bs=4096 2>/dev/null || true
	[ -s "$DISK/fill" ] || fail "could not fill the tmpfs"
}

# kept_plus_lost_is N FILE: the records in FILE (lost records aside) plus
# the counts its lost records give are N, and some were lost.
kept_plus_lost_is() {
	"$PY" -c 'import json, sys
recs = [json.loads(l) for l in open(sys.argv[2])]
kept = sum(1 for r in recs if r["event"] != "lost")
lost = sum(r["count"] for r in recs if r["event"] == "lost")
print("kept=%d lost=%d" % (kept, lost))
sys.exit(0 if kept + lost == int(sys.argv[1]) and lost > 0 else 1)' "$1" "$2"
}

@test "full disk, SOCKS5_AUDIT_REQUIRED on (default): no torn record, sessions refused, service and a lost record once space is back" {
	start_disk "permit - - - - - -"
	assert_eq "$(session)" ok "before the disk fills"
	fill_disk
	# The file's last page still takes a few records; then a record
	# that does not fit whole is cut back, and the session it explains
	# is refused.
	local i refused=0
	for i in $(seq 1 60); do
		if [ "$(session)" = refused ]; then
			refused=$i
			break
		fi
	done
	[ "$refused" -gt 0 ] || fail "60 sessions served on a full disk"
	assert_eq "$(session)" refused "while the disk stays full"
	run audit_validate "$AUDIT"
	echo "$output"
	[ "$status" -eq 0 ] || fail "a torn or invalid line in the audit file"
	assert_eq "$(grep -c 'audit file cannot be written' "$D_LOG")" 1 \
	    "one log line for the failure"
	rm -f "$DISK/fill"
	assert_eq "$(session)" ok "after space came back"
	wait_until 5 eval '[ "$(audit_count "$AUDIT" event lost)" -eq 1 ]' ||
	    fail "no lost record"
	local lost
	lost=$(audit_records "$AUDIT" event lost)
	echo "$lost"
	[ "$(field count "$(jfields "$lost")")" -ge 2 ] || fail "lost count: $lost"
	run audit_validate "$AUDIT"
	echo "$output"
	[ "$status" -eq 0 ] || fail "invalid line after recovery"
	assert_eq "$(grep -c 'audit file writable again' "$D_LOG")" 1 \
	    "one log line for the recovery"
	# The lost record comes before the first record written again.
	assert_match "$(grep -A1 '"event":"lost"' "$AUDIT" | tail -1)" '"event":"(wrap|accept)"'
}

@test "full disk, SOCKS5_AUDIT_REQUIRED off: sessions go on, every lost record counted" {
	start_disk "set SOCKS5_AUDIT_REQUIRED off" "permit - - - - - -"
	assert_eq "$(session)" ok "before the disk fills"
	fill_disk
	# One client process for the 30 sessions, one after the other.
	run multiclient -p "127.0.0.1:$D_PORT" -d 127.0.0.1 -P "$EH_PORT" -n 30 \
	    --threads 1
	assert_eq "$output" "ok=30 fail=0" "30 sessions on a full disk"
	run audit_validate "$AUDIT"
	[ "$status" -eq 0 ] || fail "a torn or invalid line: $output"
	rm -f "$DISK/fill"
	assert_eq "$(session)" ok
	# Every record of the 32 sessions (wrap, accept, request, close) is
	# either in the file or counted in a lost record, one per recovery.
	wait_until 10 kept_plus_lost_is 128 "$AUDIT" ||
		{ cat "$AUDIT"; fail "kept + lost is not 128: $(kept_plus_lost_is 128 "$AUDIT")"; }
	# The slack of the file's last page may take a short record after a
	# longer one failed, so the state may flip more than once: one log
	# line per change, alternating, "sessions go on" first, "writable
	# again" last.
	run "$PY" -c 'import re, sys
states = re.findall(r"audit file (cannot be written|writable again)", open(sys.argv[1]).read())
ok = (len(states) >= 2 and states[0] == "cannot be written" and states[-1] == "writable again"
      and all(a != b for a, b in zip(states, states[1:])))
print(states)
sys.exit(0 if ok else 1)' "$D_LOG"
	[ "$status" -eq 0 ] || fail "log lines do not alternate: $output"
	assert_match "$(grep -m1 'audit file cannot be written' "$D_LOG")" "sessions go on"
	run audit_validate "$AUDIT"
	[ "$status" -eq 0 ] || fail "invalid line after recovery: $output"
}

@test "a flood of denied UDP datagrams: the first 5 in full, the rest in one summary" {
	local ep
	ep=$(free_port)
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "deny - u - 127.0.0.1 - $ep" "permit - - - - - -"
	AUDIT="$BATS_TEST_TMPDIR/audit.jsonl"
	daemon_start D "$BATS_TEST_TMPDIR/socks5.conf" -- -a "$AUDIT"
	run "$PY" "$HELPERS/udpclient.py" -p "127.0.0.1:$D_PORT" --echo-port "$ep" --flood 100
	echo "$output"
	assert_field reply 0
	wait_until 10 eval '[ "$(audit_count "$AUDIT" event close cmd udp)" -eq 1 ]' ||
	    fail "no close record"
	assert_eq "$(audit_count "$AUDIT" event request cmd udp decision deny)" 5
	local sum
	sum=$(audit_records "$AUDIT" event summary)
	echo "$sum"
	assert_eq "$(field count "$(jfields "$sum")")" 95 "the summary counts the rest"
	assert_match "$sum" '"cmd":"udp".*"reason":"UDP datagrams denied"'
}

@test "a flood of connections from a banned address: 5 ban records, the rest in a summary" {
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "ban 127.0.0.4 -" "permit - - - - - -"
	AUDIT="$BATS_TEST_TMPDIR/audit.jsonl"
	daemon_start D "$BATS_TEST_TMPDIR/socks5.conf" -- -a "$AUDIT"
	# 40 connections in well under the 10 s window, each closed by the
	# daemon unanswered.
	"$PY" -c 'import socket,sys
for i in range(40):
    s = socket.socket()
    s.settimeout(5)
    s.bind(("127.0.0.4", 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.recv(1)
    s.close()' "$D_PORT"
	wait_until 5 eval '[ "$(audit_count "$AUDIT" event ban)" -ge 5 ]'
	assert_eq "$(audit_count "$AUDIT" event ban)" 5
	# The summary is due after a quiet window, or at the stop.
	daemon_stop "$D_PID"
	local sum
	sum=$(audit_records "$AUDIT" event summary)
	echo "$sum"
	assert_eq "$(field count "$(jfields "$sum")")" 35
}
