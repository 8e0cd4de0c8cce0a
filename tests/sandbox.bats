#!/usr/bin/env bats
# Privilege separation (README "Security model"): what each process is
# allowed, TCP wrappers, authd and the resolver restarted after a kill,
# penalties for clients whose worker crashed.  Runs as root.

load lib/common

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "the sandbox tests need root"
	server_start EH echohash
	make_www "$BATS_FILE_TMPDIR/www"
	head -c 8M /dev/urandom >"$BATS_FILE_TMPDIR/www/big"
	server_start WWW http --dir "$BATS_FILE_TMPDIR/www"
	# A PAM service for RFC 1929: pam_exec hands the password to a script
	# that accepts alice/secret only.  Removed in teardown_file.
	PAM_SERVICE="socks5d-test-$$"
	export PAM_SERVICE
	cat >"$BATS_FILE_TMPDIR/check-pass" <<'SH'
#!/bin/sh
IFS= read -r pw || true
[ "$PAM_USER" = alice ] && [ "$pw" = secret ]
SH
	chmod 0755 "$BATS_FILE_TMPDIR/check-pass"
	printf 'auth required pam_exec.so expose_authtok quiet %s\naccount required pam_permit.so\n' \
	    "$BATS_FILE_TMPDIR/check-pass" >"/etc/pam.d/$PAM_SERVICE"
	printf 'socks5d: 127.0.0.3\n' >"$BATS_FILE_TMPDIR/hosts.deny"
	# A long penalty: on a loaded host the steps between a crash record
	# and the next connection from the same address took 14 s, past the
	# default 10 s.
	write_conf "$BATS_FILE_TMPDIR/socks5.conf" \
	    "set SOCKS5_PAM_SERVICE $PAM_SERVICE" \
	    "set SOCKS5_HOSTS_ALLOW $BATS_FILE_TMPDIR/hosts.allow" \
	    "set SOCKS5_HOSTS_DENY $BATS_FILE_TMPDIR/hosts.deny" \
	    "set SOCKS5_PENALTY 600" \
	    "auth - - u,n" \
	    "permit u - - - - - alice" \
	    "deny u - - - - -" \
	    "permit n - - - - -"
	AUDIT="$BATS_FILE_TMPDIR/audit.jsonl"
	export AUDIT
	plain_segv   # "a worker killed by a signal"
	daemon_start S "$BATS_FILE_TMPDIR/socks5.conf" -- -a "$AUDIT"
}

teardown_file() {
	cleanup_file
	rm -f "/etc/pam.d/${PAM_SERVICE:-socks5d-test-none}"
}

teardown() {
	# Whatever a test did to the workers' chroot, leave it as it must be.
	rm -f /run/socks5d/empty/planted
	chmod 0755 /run/socks5d/empty 2>/dev/null || true
	cleanup_test
}

# child_with_title PID TITLE: the pid of PID's child whose command line
# starts with TITLE.
child_with_title() {
	local c
	for c in $(daemon_children "$1"); do
		case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in
		"$2"*) echo "$c"; return 0 ;;
		esac
	done
	return 1
}

# audit_at_least N FILE [KEY VALUE]...: at least N records match (for
# wait_until, which re-runs it).
audit_at_least() {
	local n=$1
	shift
	[ "$(audit_count "$@")" -ge "$n" ]
}

# forkers_of PID: how many "socks5d: forker" processes PID has.
forkers_of() {
	local c n=0
	for c in $(daemon_children "$1"); do
		case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in
		"socks5d: forker"*) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

status_field() { # PID FIELD: the first value of FIELD in /proc/PID/status
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}

# hold NAME SRC: a SOCKS5 session from SRC held open; sets HELD_PID to its
# worker's pid.
hold() {
	local ready="$BATS_TEST_TMPDIR/$1.ready"
	bg "$1" socks -p "127.0.0.1:$S_PORT" --src "$2" -d 127.0.0.1 -P "$EH_PORT" \
	    ready:"$ready" sleep:20
	wait_until 10 test -e "$ready" || { fail "session $1 not established"; return 1; }
	HELD_PID=$(wait_until 5 child_with_title "$S_PID" "socks5d: worker $2:" &&
	    child_with_title "$S_PID" "socks5d: worker $2:") ||
	    { fail "no worker for $2"; return 1; }
}

# assert_confined PID: the process has the worker sandbox.
assert_confined() {
	local pid=$1
	assert_eq "$(status_field "$pid" Uid)" "$(id -u nobody)" "uid of $pid" &&
	assert_eq "$(status_field "$pid" NoNewPrivs)" 1 "NoNewPrivs of $pid" &&
	assert_eq "$(status_field "$pid" Seccomp)" 2 "Seccomp of $pid" &&
	assert_eq "$(readlink "/proc/$pid/root")" /run/socks5d/empty "root of $pid"
}

@test "the forker (used when hosts_access has no rules) is confined before any client, and so are its workers" {
	write_conf "$BATS_TEST_TMPDIR/fk.conf" \
	    "set SOCKS5_HOSTS_ALLOW $BATS_TEST_TMPDIR/none.allow" \
	    "set SOCKS5_HOSTS_DENY $BATS_TEST_TMPDIR/none.deny" \
	    "permit - - - - - -"
	daemon_start P "$BATS_TEST_TMPDIR/fk.conf"
	local fk
	wait_until 5 child_with_title "$P_PID" "socks5d: forker" >/dev/null ||
	    fail "no forker"
	fk=$(child_with_title "$P_PID" "socks5d: forker")
	assert_confined "$fk"
	assert_eq "$(awk '/^Max open files/ {print $4}' "/proc/$fk/limits")" 64 "forker RLIMIT_NOFILE"
	# A session: its worker is the forker's child, with the same sandbox
	# and no right to fork.
	local ready="$BATS_TEST_TMPDIR/p.ready" w
	bg P1 socks -p "127.0.0.1:$P_PORT" -d 127.0.0.1 -P "$EH_PORT" ready:"$ready" sleep:10
	wait_until 10 test -e "$ready" || fail "session not established"
	wait_until 5 child_with_title "$fk" "socks5d: worker 127.0.0.1:" >/dev/null ||
	    fail "no titled worker under the forker: $(ps -o pid,ppid,args $(daemon_tree "$P_PID"))"
	w=$(child_with_title "$fk" "socks5d: worker 127.0.0.1:")
	assert_confined "$w"
	assert_eq "$(awk '/^Max processes/ {print $3}' "/proc/$w/limits")" 0 "worker RLIMIT_NPROC"
	[ -z "$(child_with_title "$P_PID" "socks5d: worker")" ] ||
	    fail "the master forked a worker itself"
}

@test "a worker runs as nobody, chrooted in the empty dir, no_new_privs, seccomp" {
	hold H1 127.0.0.1
	assert_eq "$(status_field "$HELD_PID" Uid)" "$(id -u nobody)" "worker uid"
	assert_eq "$(status_field "$HELD_PID" Gid)" "$(id -g nobody)" "worker gid"
	assert_eq "$(status_field "$HELD_PID" NoNewPrivs)" 1 "NoNewPrivs"
	assert_eq "$(status_field "$HELD_PID" Seccomp)" 2 "Seccomp (filter mode)"
	assert_eq "$(readlink "/proc/$HELD_PID/root")" /run/socks5d/empty "root dir"
	[ -z "$(ls -A /run/socks5d/empty)" ] || fail "the chroot is not empty"
	# Few descriptors: nothing of the master's beyond what it needs.
	local nfd
	nfd=$(ls "/proc/$HELD_PID/fd" | wc -l)
	[ "$nfd" -le 16 ] || fail "worker holds $nfd descriptors"
	assert_eq "$(awk '/^Max open files/ {print $4}' "/proc/$HELD_PID/limits")" 64 "RLIMIT_NOFILE"
	assert_eq "$(awk '/^Max processes/ {print $3}' "/proc/$HELD_PID/limits")" 0 "RLIMIT_NPROC"
}

@test "master and authd run as root, the resolver as _socks5d, the forker as nobody, each its own process" {
	local authd resolver fk
	assert_eq "$(status_field "$S_PID" Uid)" 0 "master uid"
	authd=$(child_with_title "$S_PID" "socks5d: authd") || fail "no authd process"
	resolver=$(child_with_title "$S_PID" "socks5d: resolver") || fail "no resolver process"
	assert_eq "$(status_field "$authd" Uid)" 0 "authd uid"
	# Not the workers' user (tests/uids.bats): SOCKS5_HELPER_USER.
	assert_eq "$(status_field "$resolver" Uid)" "$(id -u _socks5d)" "resolver uid"
	assert_eq "$(status_field "$resolver" NoNewPrivs)" 1 "resolver NoNewPrivs"
	fk=$(child_with_title "$S_PID" "socks5d: forker") || fail "no forker process"
	assert_eq "$(status_field "$fk" Uid)" "$(id -u nobody)" "forker uid"
	assert_eq "$(status_field "$fk" Seccomp)" 2 "forker Seccomp"
	[ "$authd" != "$S_PID" ] && [ "$resolver" != "$authd" ] && [ "$fk" != "$resolver" ]
}

@test "names resolve inside the sandbox: /etc/hosts (localhost) through the resolver" {
	run curl_socks -o /dev/null -w '%{http_code}' --socks5-hostname "127.0.0.1:$S_PORT" \
	    "http://localhost:$WWW_PORT/index.html"
	assert_eq "$output" 200 "localhost through the resolver"
}

@test "TCP wrappers: hosts.deny refuses 127.0.0.3 with no reply, 127.0.0.1 is served" {
	run socks -p "127.0.0.1:$S_PORT" --src 127.0.0.3 -d 127.0.0.1 -P "$EH_PORT"
	assert_match "$output" "error=(eof|reset) in method reply after 0 bytes" \
	    "refused without a reply"
	run curl_socks -o /dev/null -w '%{http_code}' --socks5 "127.0.0.1:$S_PORT" \
	    "http://127.0.0.1:$WWW_PORT/index.html"
	assert_eq "$output" 200 "127.0.0.1 served"
	wait_until 5 audit_at_least 1 "$AUDIT" event wrap decision deny
	assert_match "$(audit_records "$AUDIT" event wrap decision deny)" '"client":"127\.0\.0\.3:'
	[ "$(audit_count "$AUDIT" event wrap decision permit)" -ge 1 ]
}

@test "RFC 1929 through authd and PAM: right password served, wrong refused, audited" {
	run curl_socks -o /dev/null -w '%{http_code}' -x "socks5h://alice:secret@127.0.0.1:$S_PORT" \
	    "http://127.0.0.1:$WWW_PORT/index.html"
	assert_eq "$output" 200 "alice with the right password"
	run curl_socks -o /dev/null -x "socks5h://alice:wrong@127.0.0.1:$S_PORT" \
	    "http://127.0.0.1:$WWW_PORT/index.html"
	[ "$status" -ne 0 ] || fail "a wrong password was accepted"
	run curl_socks -o /dev/null -x "socks5h://bob:secret@127.0.0.1:$S_PORT" \
	    "http://127.0.0.1:$WWW_PORT/index.html"
	[ "$status" -ne 0 ] || fail "bob was accepted"
	[ "$(audit_count "$AUDIT" event auth method userpass user alice decision permit)" -ge 1 ]
	[ "$(audit_count "$AUDIT" event auth method userpass user alice decision deny)" -ge 1 ]
	[ "$(audit_count "$AUDIT" event auth method userpass user bob decision deny)" -ge 1 ]
	! grep -q secret "$AUDIT" || fail "a password reached the audit log"
}

@test "authd killed with SIGKILL mid-session: the session goes on, a new login works" {
	local authd fk out="$BATS_TEST_TMPDIR/big.out"
	authd=$(child_with_title "$S_PID" "socks5d: authd")
	fk=$(child_with_title "$S_PID" "socks5d: forker") || fail "no forker"
	# An authenticated download paced to last about 2 s.
	bg A curl_socks -o "$out" --limit-rate 4M \
	    -x "socks5h://alice:secret@127.0.0.1:$S_PORT" \
	    "http://127.0.0.1:$WWW_PORT/big"
	wait_until 10 test -s "$out" || fail "the download did not start"
	kill -KILL "$authd"
	wait_until 10 eval 'n=$(child_with_title "$S_PID" "socks5d: authd") && [ "$n" != "$authd" ]' ||
	    fail "authd was not restarted"
	run curl_socks -o /dev/null -w '%{http_code}' -x "socks5h://alice:secret@127.0.0.1:$S_PORT" \
	    "http://127.0.0.1:$WWW_PORT/index.html"
	assert_eq "$output" 200 "login after the restart"
	bg_wait A 30
	assert_eq "$status" 0 "the running session"
	assert_eq "$(sha "$out")" "$(sha "$BATS_FILE_TMPDIR/www/big")" "downloaded bytes"
	# The forker holding the old door was replaced, not leaked.
	local nf
	nf=$(nproc)
	[ "$nf" -le 4 ] || nf=4
	wait_until 5 eval '[ "$(forkers_of "$S_PID")" -eq $nf ] && ! [ -e /proc/$fk ]' ||
	    fail "$(forkers_of "$S_PID") forker(s) after the restart (want $nf new ones; the old $fk gone)"
}

@test "the resolver killed: it comes back and names resolve again" {
	local res
	res=$(child_with_title "$S_PID" "socks5d: resolver")
	kill -KILL "$res"
	wait_until 10 eval 'n=$(child_with_title "$S_PID" "socks5d: resolver") && [ "$n" != "$res" ]' ||
	    fail "resolver was not restarted"
	run curl_socks -o /dev/null -w '%{http_code}' --socks5-hostname "127.0.0.1:$S_PORT" \
	    "http://localhost:$WWW_PORT/index.html"
	assert_eq "$output" 200 "a name after the restart"
}

@test "a worker killed by a signal: error record, its client address is penalised" {
	hold H2 127.0.0.4
	kill -SEGV "$HELD_PID"
	wait_until 5 audit_at_least 1 "$AUDIT" event error pid "$HELD_PID" ||
	    fail "no error record for worker $HELD_PID"
	assert_match "$(audit_records "$AUDIT" event error pid "$HELD_PID")" '"signal":11'
	run socks -p "127.0.0.1:$S_PORT" --src 127.0.0.4 -d 127.0.0.1 -P "$EH_PORT"
	assert_match "$output" "error=(eof|reset) in method reply after 0 bytes" \
	    "the crashed client's address is refused"
	[ "$(audit_count "$AUDIT" event ban rule penalty)" -ge 1 ] || fail "no penalty record"
	assert_serves "$S_PORT" "$EH_PORT"
}

@test "a worker killed by SIGKILL or SIGTERM from elsewhere is audited but its client is not penalised" {
	local sig
	for sig in KILL TERM; do
		hold H3 127.0.0.6
		kill -"$sig" "$HELD_PID"
		wait_until 5 audit_at_least 1 "$AUDIT" event error pid "$HELD_PID" ||
		    fail "no error record for worker $HELD_PID (SIG$sig)"
		# An OOM kill or another nobody process says nothing about the
		# client: it is served again at once.
		run socks -p "127.0.0.1:$S_PORT" --src 127.0.0.6 -d 127.0.0.1 \
		    -P "$EH_PORT" send:again shutdown recv
		assert_field reply 0 "127.0.0.6 after SIG$sig"
	done
	[ "$(audit_count "$AUDIT" event ban rule penalty client 127.0.0.6)" -eq 0 ] ||
	    fail "127.0.0.6 was penalised"
}

@test "the chroot must be empty, root-owned and writable by nobody else, or socks5d refuses to start" {
	local port
	port=$(free_port)
	touch /run/socks5d/empty/planted
	run timeout 10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" -l "127.0.0.1:$port"
	rm -f /run/socks5d/empty/planted
	assert_eq "$status" 1 "a file in the chroot"
	assert_match "$output" "must be empty"
	chmod 0777 /run/socks5d/empty
	run timeout 10 "$SOCKS5D" -f "$BATS_FILE_TMPDIR/socks5.conf" -l "127.0.0.1:$port"
	chmod 0755 /run/socks5d/empty
	assert_eq "$status" 1 "a world-writable chroot"
	assert_match "$output" "writable by nobody else"
}
