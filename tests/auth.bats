#!/usr/bin/env bats
# Authentication (README "Authentication", issue 10): PAM through
# pam_wrapper and through pam_unix, the PAM time limit, identd (RFC 1413)
# under SOCKS5_DEMAND_IDENT and for user lists, NEC's password file, and
# brute-force throttling.  Runs as root (a test identd on port 113, a
# system user for pam_unix).

load lib/common

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "the auth tests need root"
	server_start EH echohash
	make_www "$BATS_FILE_TMPDIR/www"
	server_start WWW http --dir "$BATS_FILE_TMPDIR/www"
	PAMW_LIB=$(dpkg -L libpam-wrapper 2>/dev/null | grep '/libpam_wrapper\.so$' | head -1)
	PAM_MATRIX=$(dpkg -L libpam-wrapper 2>/dev/null | grep '/pam_matrix\.so$' | head -1)
	PAM_EXEC=$(find /usr/lib /lib -name pam_exec.so -path '*security*' 2>/dev/null | head -1)
	export PAMW_LIB PAM_MATRIX PAM_EXEC
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
	if [ -n "${UNIX_USER:-}" ]; then
		userdel -r "$UNIX_USER" 2>/dev/null || true
		rm -f "/etc/pam.d/$UNIX_USER"
	fi
}

up() {
	"$PY" "$HELPERS/upclient.py" "$@"
}

# src_addr: a loopback address of this test's own, so that the test identd
# on its port 113 and the throttling counters are the test's alone.
src_addr() {
	echo "127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))"
}

# identd_start ADDR MODE [USER]: the test identd on ADDR:113.
identd_start() {
	local dir=$BATS_TEST_TMPDIR
	IDENT_COUNT="$dir/ident.$1.count"
	rm -f "$dir/ident.ready"
	"$PY" "$HELPERS/identd.py" --bind "$1" --mode "$2" --user "${3:-test}" \
	    --count-file "$IDENT_COUNT" --ready "$dir/ident.ready" \
	    >>"$dir/identd.log" 2>&1 3>&- &
	echo "$!" >>"$dir/.pids"
	wait_until 10 test -e "$dir/ident.ready" ||
	    { fail "test identd did not start"; cat "$dir/identd.log" >&2; return 1; }
}

queries() {
	if [ -f "$IDENT_COUNT" ]; then wc -l <"$IDENT_COUNT" | tr -d ' '; else echo 0; fi
}

# pamw_start SERVICE-LINES... -- CONF-LINES...: the daemon D under
# pam_wrapper, with service "socks5" made of SERVICE-LINES in a directory
# of the test's own (no /etc change).
pamw_start() {
	local dir="$BATS_TEST_TMPDIR/pam.d"
	mkdir -p "$dir"
	: >"$dir/socks5"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		printf '%s\n' "$1" >>"$dir/socks5"
		shift
	done
	shift
	LD_PRELOAD=$PAMW_LIB PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$dir start "$@"
}

matrix_start() {
	local db="$BATS_TEST_TMPDIR/passdb"
	printf 'alice:secret:socks5\nbob:hunter2:socks5\n' >"$db"
	pamw_start "auth required $PAM_MATRIX passdb=$db" \
	    "account required $PAM_MATRIX passdb=$db" -- "$@"
}

@test "pam_wrapper + pam_matrix: right password served, wrong and unknown refused, user list, no password kept" {
	[ -n "$PAMW_LIB" ] && [ -n "$PAM_MATRIX" ] || fail "libpam-wrapper is not installed"
	matrix_start "set SOCKS5_NOIDENT" "auth - - u,n" \
	    "permit - c - - - - alice" "deny - - - - - -"
	run curl_socks -U alice:secret --socks5 "127.0.0.1:$D_PORT" \
	    -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WWW_PORT/index.html"
	assert_eq "$output" 200 "curl -U alice:secret --socks5"
	run curl_socks -U alice:wrong --socks5 "127.0.0.1:$D_PORT" \
	    -o /dev/null "http://127.0.0.1:$WWW_PORT/index.html"
	[ "$status" -ne 0 ] || fail "curl with a wrong password got through"
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" alice secret
	assert_field status 0
	assert_field reply 0
	run up -p "127.0.0.1:$D_PORT" alice wrongpass
	assert_field status 1
	assert_field closed eof
	run up -p "127.0.0.1:$D_PORT" mallory secret
	assert_field status 1
	assert_field closed eof
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" bob hunter2
	assert_field status 0
	assert_field reply 2
	# Method n: no user, so the alice line cannot match.
	run socks -p "127.0.0.1:$D_PORT" -P "$EH_PORT" --methods 00
	assert_field method 00
	assert_field reply 2
	[ "$(audit_count "$AUDIT" event auth method userpass user alice decision permit)" -ge 1 ]
	[ "$(audit_count "$AUDIT" event auth user alice decision deny reason 'bad password')" -ge 1 ] ||
	    fail "no 'bad password' reason: $(cat "$AUDIT")"
	[ "$(audit_count "$AUDIT" event auth user mallory decision deny)" -ge 1 ]
	[ "$(audit_count "$AUDIT" event request user bob reply 2)" -ge 1 ]
	! grep -rq -e secret -e hunter2 -e wrongpass "$AUDIT" "$D_LOG" ||
	    fail "a password reached the audit file or the log"
}

@test "pam_wrapper: malformed RFC 1929 sub-negotiations get a failure or a close, and the daemon keeps serving" {
	matrix_start "set SOCKS5_NOIDENT" "auth - - u" "permit u - - - - -"
	local bad
	# version 2; user length 0; truncated password; lengths past the end.
	for bad in 050102020561626364650100 0501020100 05010201056162636465 0501020105616c696365ff; do
		run socks -p "127.0.0.1:$D_PORT" --timeout 5 --raw "$bad"
		assert_match "$(field recv)" '^0502(01(0[1-9a-f]|[1-9a-f][0-9a-f]))?$' "answer to $bad"
		assert_match "$(field end)" '^(eof|reset)$' "end after $bad"
	done
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" alice secret
	assert_field reply 0
}

@test "pam_unix through contrib/pam.d/socks5 with a system user made by the test" {
	UNIX_USER="s5t$$"
	useradd -M -N -s /usr/sbin/nologin "$UNIX_USER"
	echo "$UNIX_USER:Unix-Pw-42" | chpasswd
	install -m 0644 "$BATS_TEST_DIRNAME/../contrib/pam.d/socks5" "/etc/pam.d/$UNIX_USER"
	start "set SOCKS5_NOIDENT" "set SOCKS5_PAM_SERVICE $UNIX_USER" \
	    "set SOCKS5_NEGTIMEOUT 15" "auth - - u" "permit u - - - - - $UNIX_USER"
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" "$UNIX_USER" Unix-Pw-42
	assert_field status 0
	assert_field reply 0
	run up -p "127.0.0.1:$D_PORT" "$UNIX_USER" wrong
	assert_field status 1
	[ "$(audit_count "$AUDIT" event auth user "$UNIX_USER" decision permit)" -ge 1 ]
}

@test "a PAM module that hangs: refused at SOCKS5_AUTH_TIMEOUT, reason timeout, the worker gone, the master serving" {
	[ -n "$PAM_EXEC" ] || fail "pam_exec.so not found"
	pamw_start "auth required $PAM_EXEC /bin/sleep 20" "account required $PAM_EXEC /bin/true" -- \
	    "set SOCKS5_NOIDENT" "set SOCKS5_AUTH_TIMEOUT 2" "set SOCKS5_NEGTIMEOUT 15" \
	    "auth - - u,n" "permit - - - - - -"
	local t0=$SECONDS
	run up -p "127.0.0.1:$D_PORT" alice secret
	assert_field status 1
	assert_field closed eof
	[ $((SECONDS - t0)) -lt 8 ] || fail "refusal took $((SECONDS - t0)) s"
	[ "$(audit_count "$AUDIT" event auth user alice decision deny reason timeout)" -eq 1 ] ||
	    fail "no timeout record: $(cat "$AUDIT")"
	wait_until 5 eval '[ "$(audit_count "$AUDIT" event close reason "authentication failed")" -eq 1 ]' ||
	    fail "the worker did not end"
	assert_serves "$D_PORT" "$EH_PORT"
}

@test "identd, SOCKS4 under SOCKS5_DEMAND_IDENT: match 90, other user 93, no listener 92" {
	local a b c
	a=$(src_addr); b=$(src_addr); c=$(src_addr)
	start "set SOCKS5_DEMAND_IDENT" "permit - - - - - -"
	identd_start "$a" match carol
	run socks -p "127.0.0.1:$D_PORT" -v 4 --src "$a" --user carol -P "$EH_PORT" send:x shutdown recv
	assert_field reply 90
	run socks -p "127.0.0.1:$D_PORT" -v 4a -d localhost --src "$a" --user carol -P "$EH_PORT" send:x shutdown recv
	assert_field reply 90 "SOCKS4a"
	run socks -p "127.0.0.1:$D_PORT" -v 4 --src "$a" --user mallory -P "$EH_PORT"
	assert_field reply 93
	identd_start "$b" match mallory
	run socks -p "127.0.0.1:$D_PORT" -v 4 --src "$b" --user carol -P "$EH_PORT"
	assert_field reply 93
	run socks -p "127.0.0.1:$D_PORT" -v 4 --src "$c" --user carol -P "$EH_PORT"
	assert_field reply 92
	[ "$(audit_count "$AUDIT" event auth method ident user carol decision permit)" -ge 2 ]
	[ "$(audit_count "$AUDIT" event request reply 93 reason 'identd mismatch')" -eq 2 ]
	[ "$(audit_count "$AUDIT" event request reply 92 reason 'identd unreachable')" -eq 1 ]
}

@test "identd replies that are garbage, for other ports, 2000 bytes long, ERROR or silent: 92 or 93, never 90" {
	start "set SOCKS5_DEMAND_IDENT" "set SOCKS5_NEGTIMEOUT 10" "permit - - - - - -"
	local mode a
	for mode in garbage otherports long error silent; do
		a=$(src_addr)
		identd_start "$a" "$mode" test
		run socks -p "127.0.0.1:$D_PORT" -v 4 --src "$a" --user test -P "$EH_PORT"
		assert_match "$(field reply)" '^9[23]$' "reply with an identd that sends $mode"
		[ "$(queries)" -eq 1 ] || fail "$mode: $(queries) queries"
	done
}

@test "identd, SOCKS5 method n under the demand: 0xFF without an answer, served with one" {
	local a b
	a=$(src_addr); b=$(src_addr)
	start "set SOCKS5_DEMAND_IDENT" "auth - - n" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" --src "$a" -P "$EH_PORT"
	assert_field method ff
	identd_start "$b" match dora
	run socks -p "127.0.0.1:$D_PORT" --src "$b" -P "$EH_PORT" send:hi shutdown recv
	assert_field method 00
	assert_field reply 0
	[ "$(audit_count "$AUDIT" event request method ident user dora reply 0)" -eq 1 ]
	[ "$(audit_count "$AUDIT" event auth method ident decision deny reason 'identd unreachable')" -eq 1 ]
}

@test "identd user matches user lists (method ident); no query when no answer could change the decision" {
	local a b c
	a=$(src_addr); b=$(src_addr); c=$(src_addr)
	start "permit n c - - - - carol" "deny - - - - - -"
	identd_start "$a" match carol
	run socks -p "127.0.0.1:$D_PORT" --src "$a" -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0
	identd_start "$b" match mallory
	run socks -p "127.0.0.1:$D_PORT" --src "$b" -P "$EH_PORT"
	assert_field reply 2
	# SOCKS4 USERID is not a user: without identd it cannot claim carol.
	run socks -p "127.0.0.1:$D_PORT" -v 4 --src "$c" --user carol -P "$EH_PORT"
	assert_field reply 91
	[ "$(audit_count "$AUDIT" event request method ident user carol reply 0)" -eq 1 ]
	[ "$(audit_count "$AUDIT" event request method ident user mallory reply 2)" -eq 1 ]
	[ "$(audit_count "$AUDIT" event request version 4 method none user None userid carol reply 91)" -eq 1 ] ||
	    fail "the SOCKS4 USERID is not recorded as unverified: $(cat "$AUDIT")"
	daemon_stop "$D_PID"
	# No user list and no demand: an answer changes nothing, no query.
	start "permit - - - - - -"
	identd_start "$c" match carol
	run socks -p "127.0.0.1:$D_PORT" --src "$c" -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0
	run socks -p "127.0.0.1:$D_PORT" -v 4 --src "$c" --user carol -P "$EH_PORT" send:x shutdown recv
	assert_field reply 90
	daemon_stop "$D_PID"
	# A user list, but SOCKS5_NOIDENT: no query either.
	start "set SOCKS5_NOIDENT" "permit n c - - - - carol" "permit - - - - - -"
	run socks -p "127.0.0.1:$D_PORT" --src "$c" -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0
	[ "$(queries)" -eq 0 ] || fail "$(queries) identd queries where none could matter"
}

# pwd_file FILE: yescrypt, SHA-512 and plain entries.
pwd_file() {
	{
		echo "# NEC socks5.passwd"
		echo "yuki $(mkpasswd -m yescrypt 'yes-pw')"
		echo "sha $(openssl passwd -6 'sha-pw')"
		echo "plainuser plain-pw"
	} >"$1"
	chmod 0600 "$1"
}

@test "password file: yescrypt and \$6\$ pass, wrong fails, plain passes with a warning" {
	local pf="$BATS_TEST_TMPDIR/socks5.passwd"
	pwd_file "$pf"
	start "set SOCKS5_NOIDENT" "set SOCKS5_PWDFILE $pf" "auth - - u" "permit u - - - - -"
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" yuki yes-pw
	assert_field reply 0
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" sha sha-pw
	assert_field reply 0
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" plainuser plain-pw
	assert_field reply 0
	run up -p "127.0.0.1:$D_PORT" yuki sha-pw
	assert_field status 1
	run up -p "127.0.0.1:$D_PORT" nobody-here yes-pw
	assert_field status 1
	grep -q "socks5.passwd:4: plain-text password for 'plainuser'" "$D_LOG" ||
	    fail "no warning for the plain entry: $(cat "$D_LOG")"
	[ "$(audit_count "$AUDIT" event auth user yuki decision deny reason 'bad password')" -eq 1 ]
	[ "$(audit_count "$AUDIT" event auth user nobody-here decision deny reason 'unknown user')" -eq 1 ]
	! grep -rq -e yes-pw -e sha-pw -e plain-pw "$AUDIT" "$D_LOG" || fail "a password was logged"
}

@test "password file readable by the group: refused at start, and at reload the old rules stay" {
	local pf="$BATS_TEST_TMPDIR/socks5.passwd"
	pwd_file "$pf"
	chmod 0640 "$pf"
	write_conf "$BATS_TEST_TMPDIR/bad.conf" "set SOCKS5_PWDFILE $pf" "auth - - u" "permit u - - - - -"
	run timeout 10 "$SOCKS5D" -f "$BATS_TEST_TMPDIR/bad.conf" -l "127.0.0.1:$(free_port)"
	[ "$status" -ne 0 ] || fail "started with a group-readable password file"
	assert_match "$output" "SOCKS5_PWDFILE $pf refused: mode 0640" "start error"
	chmod 0600 "$pf"
	start "set SOCKS5_NOIDENT" "set SOCKS5_PWDFILE $pf" "auth - - u" "permit u - - - - -"
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" yuki yes-pw
	assert_field reply 0
	# A new file that drops yuki, but readable by the group: refused.
	echo "other $(mkpasswd -m yescrypt x)" >"$pf.new"
	chmod 0640 "$pf.new"
	mv "$pf.new" "$pf"
	kill -HUP "$D_PID"
	wait_until 10 grep -q "reload of .* refused" "$D_LOG" || fail "reload not refused: $(cat "$D_LOG")"
	grep -q "SOCKS5_PWDFILE $pf refused: mode 0640" "$D_LOG"
	run up -p "127.0.0.1:$D_PORT" -P "$EH_PORT" yuki yes-pw
	assert_field reply 0 "yuki after the refused reload"
	# Fixed: the reload goes through and the new file is in force.
	chmod 0600 "$pf"
	kill -HUP "$D_PID"
	wait_until 10 grep -q "reloaded" "$D_LOG" || fail "no reload"
	wait_until 10 eval 'up -p "127.0.0.1:$D_PORT" other x | grep -qx status=0' ||
	    fail "the new password file is not in force"
	run up -p "127.0.0.1:$D_PORT" yuki yes-pw
	assert_field status 1 "yuki is gone with the new file"
}

@test "throttling: the 6th wrong attempt waits SOCKS5_AUTH_DELAY_MAX, another address is not slowed, one log line" {
	local pf="$BATS_TEST_TMPDIR/socks5.passwd" a b i e
	a=$(src_addr); b=$(src_addr)
	pwd_file "$pf"
	start "set SOCKS5_NOIDENT" "set SOCKS5_PWDFILE $pf" "set SOCKS5_AUTH_DELAY_MAX 2" \
	    "set SOCKS5_NEGTIMEOUT 20" "auth - - u" "permit u - - - - -"
	for i in 1 2 3 4 5 6; do
		run up -p "127.0.0.1:$D_PORT" --src "$a" yuki "guess$i"
		assert_field status 1 "attempt $i"
		e=$(field elapsed)
	done
	"$PY" -c "import sys; sys.exit(0 if float('$e') >= 2.0 else 1)" ||
	    fail "the 6th attempt took $e s (want >= 2)"
	# A slowed attempt would wait the 2 s cap (6 failures counted);
	# a fresh address and user wait nothing.
	run up -p "127.0.0.1:$D_PORT" --src "$b" sha wrong
	assert_field status 1
	"$PY" -c "import sys; sys.exit(0 if float('$(field elapsed)') < 1.9 else 1)" ||
	    fail "another address and user were slowed: $(field elapsed) s"
	# The address counts on its own: another user from it is slowed.
	run up -p "127.0.0.1:$D_PORT" --src "$a" sha wrong
	"$PY" -c "import sys; sys.exit(0 if float('$(field elapsed)') >= 2.0 else 1)" ||
	    fail "another user from the guessing address was not slowed: $(field elapsed) s"
	[ "$(grep -c 'throttling logins' "$D_LOG")" -eq 1 ] ||
	    fail "want one throttling log line per burst: $(grep 'throttling' "$D_LOG")"
	[ "$(audit_count "$AUDIT" event auth user yuki reason 'bad password, throttled')" -ge 1 ]
}

@test "unknown user and wrong password: same status byte, no faster refusal for the unknown" {
	local pf="$BATS_TEST_TMPDIR/socks5.passwd" a b
	a=$(src_addr); b=$(src_addr)
	pwd_file "$pf"
	start "set SOCKS5_NOIDENT" "set SOCKS5_PWDFILE $pf" "auth - - u" "permit u - - - - -"
	run up -p "127.0.0.1:$D_PORT" --src "$a" yuki wrong
	local s1=$(field status) e1=$(field elapsed)
	run up -p "127.0.0.1:$D_PORT" --src "$b" ghost wrong
	local s2=$(field status) e2=$(field elapsed)
	assert_eq "$s2" "$s1" "status byte"
	"$PY" -c "import sys; sys.exit(0 if float('$e1') >= 0.25 and float('$e2') >= 0.25 else 1)" ||
	    fail "a refusal came before the 250 ms floor: $e1 $e2"
}

@test "inetd mode (-i): identd through authd, which knows the inetd client's own socket" {
	local t=$BATS_TEST_TMPDIR a
	a=$(src_addr)
	write_conf "$t/socks5.conf" "set SOCKS5_DEMAND_IDENT" "permit - - - - - -"
	identd_start "$a" match carol
	bg inetd "$PY" "$HELPERS/launch.py" inetd --port-file "$t/port" \
	    --status-file "$t/status" -- "$SOCKS5D" -i -f "$t/socks5.conf" -a "$t/audit.jsonl"
	wait_until 10 test -s "$t/port" || fail "launcher did not start"
	run socks -p "127.0.0.1:$(cat "$t/port")" -v 4 --src "$a" --user carol -P "$EH_PORT" send:x shutdown recv
	assert_field reply 90
	[ "$(queries)" -eq 1 ] || fail "$(queries) queries"
	wait_until 20 test -s "$t/status" || fail "socks5d -i did not exit"
}
