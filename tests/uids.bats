#!/usr/bin/env bats
# Helpers and workers under different uids (issue 12 finding 4, README
# "Security model"): the resolver and the audit logger run as
# SOCKS5_HELPER_USER (default _socks5d), never as the workers' -u user, so a
# hijacked resolver cannot kill(2) a worker; the daemon refuses to start as
# root when that user is missing or is the workers' user or group.  Runs as
# root; contrib/deps.sh test creates _socks5d.

load lib/common

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "the uid tests need root"
	getent passwd _socks5d >/dev/null ||
	    skip "no _socks5d user (sh contrib/deps.sh test creates it)"
	server_start EH echohash
	write_conf "$BATS_FILE_TMPDIR/socks5.conf"
	AUDIT="$BATS_FILE_TMPDIR/audit.jsonl"
	export AUDIT
	daemon_start U "$BATS_FILE_TMPDIR/socks5.conf" -- -a "$AUDIT"
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
	if [ -n "${TEMP_USER:-}" ]; then
		userdel "$TEMP_USER" 2>/dev/null || true
	fi
	if [ -n "${TEMP_DIR:-}" ]; then
		rm -rf "$TEMP_DIR"
	fi
}

status_field() { # PID FIELD: the first value of FIELD in /proc/PID/status
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}

title_of() { # PID
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null
}

# titled DAEMON_PID TITLE: the direct children whose title starts so.
titled() {
	local p
	for p in $(daemon_children "$1"); do
		[[ $(title_of "$p") == "$2"* ]] && echo "$p"
	done
	return 0
}

# held NAME SRC: a session from SRC kept open on daemon U; HELD_PID is its
# worker.  (Not in a $(...) subshell: bg registers the client here.)
held() {
	local ready="$BATS_TEST_TMPDIR/$1.ready"
	HELD_PID=
	bg "$1" socks -p "127.0.0.1:$U_PORT" --src "$2" -d 127.0.0.1 \
	    -P "$EH_PORT" ready:"$ready" sleep:30
	wait_until 20 test -e "$ready" || return 1
	wait_until 10 worker_of_tree "$2" || return 1
	HELD_PID=$(worker_of_tree "$2")
}

worker_of_tree() { # SRC: the worker of U serving SRC
	local p
	for p in $(daemon_tree "$U_PID"); do
		[[ $(title_of "$p") == "socks5d: worker $1:"* ]] && { echo "$p"; return 0; }
	done
	return 1
}

# ids PID: "uid gid groups" as the kernel has them (real uid and gid;
# supplementary groups, "-" for none).
ids() {
	local g
	g=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$1/status" | tr -d ' ')
	echo "$(status_field "$1" Uid) $(status_field "$1" Gid) ${g:--}"
}

@test "the process tree: resolver and audit logger as _socks5d, no uid or gid shared with a forker, spare or worker" {
	local hu hg res log p u g n_work=0 n_fk=0
	hu=$(id -u _socks5d)
	hg=$(id -g _socks5d)
	held H1 127.0.0.1 || fail "no held session"
	held H2 127.0.0.2 || fail "no second held session"
	res=$(titled "$U_PID" "socks5d: resolver")
	log=$(titled "$U_PID" "socks5d: audit logger")
	[ -n "$res" ] || fail "no resolver"
	[ -n "$log" ] || fail "no audit logger"
	assert_eq "$(ids "$res")" "$hu $hg -" "resolver uid gid groups"
	assert_eq "$(ids "$log")" "$hu $hg -" "audit logger uid gid groups"
	assert_eq "$(status_field "$(titled "$U_PID" "socks5d: authd")" Uid)" 0 "authd uid (PAM)"
	# Every other unprivileged process of the tree: the workers' user,
	# sharing neither uid nor gid with the helpers.
	for p in $(daemon_tree "$U_PID"); do
		case $(title_of "$p") in
		"socks5d: forker"*) n_fk=$((n_fk + 1)) ;;
		"socks5d: worker"* | "socks5d: spare"*) n_work=$((n_work + 1)) ;;
		*) continue ;;
		esac
		read -r u g _ <<<"$(ids "$p")"
		assert_eq "$u" "$(id -u nobody)" "uid of $p ($(title_of "$p"))"
		[ "$u" != "$hu" ] && [ "$g" != "$hg" ] ||
		    fail "$p ($(title_of "$p")) shares the helpers' ids: $(ids "$p")"
	done
	[ "$n_fk" -ge 1 ] || fail "no forker in the tree"
	[ "$n_work" -ge 2 ] || fail "only $n_work workers and spares in the tree"
	# The logger, as _socks5d, still writes the file the master opened
	# (a request record is written before the reply each client got).
	[ "$(audit_count "$AUDIT" event request decision permit)" -ge 2 ] ||
	    fail "no records of the held sessions: $(cat "$AUDIT")"
}

@test "the resolver's uid and gid cannot signal a worker (EPERM); the worker's own can" {
	local res w ru rg wu wg
	held K1 127.0.0.1 || fail "no held session"
	w=$HELD_PID
	res=$(titled "$U_PID" "socks5d: resolver")
	[ -n "$res" ] || fail "no resolver"
	read -r ru rg _ <<<"$(ids "$res")"
	read -r wu wg _ <<<"$(ids "$w")"
	run setpriv --reuid "$ru" --regid "$rg" --clear-groups kill -0 "$w"
	[ "$status" -ne 0 ] || fail "a process with the resolver's ids ($ru:$rg) signalled worker $w"
	assert_match "$output" "[Oo]peration not permitted" "kill -0 as the resolver"
	# The forker the worker came from: the same.
	run setpriv --reuid "$ru" --regid "$rg" --clear-groups kill -0 "$(awk '{ print $4 }' "/proc/$w/stat")"
	[ "$status" -ne 0 ] || fail "a process with the resolver's ids signalled the worker's parent"
	# Positive twin: the check can see a permitted signal.
	run setpriv --reuid "$wu" --regid "$wg" --clear-groups kill -0 "$w"
	[ "$status" -eq 0 ] || fail "kill -0 with the worker's ids ($wu:$wg) failed: $output"
	alive_socks5d "$w" || fail "worker $w is gone"
}

# refused CONF-LINES... [-- DAEMON-ARGS]: the daemon started as root with
# this configuration exits at once; status= and output= (its stderr).
refused() {
	local lines=() port
	while [ $# -gt 0 ] && [ "$1" != -- ]; do lines+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	write_conf "$BATS_TEST_TMPDIR/r.conf" "${lines[@]}" "permit - - - - - -"
	port=$(free_port)
	run timeout 20 "$SOCKS5D" -f "$BATS_TEST_TMPDIR/r.conf" -l "127.0.0.1:$port" "$@"
}

@test "SOCKS5_HELPER_USER naming no user: refused at start, one line naming it and the command that creates it" {
	local name="nosuch$$"
	refused "set SOCKS5_HELPER_USER $name"
	assert_eq "$status" 1 "exit status (configuration error)"
	assert_eq "$(grep -c "$name" <<<"$output")" 1 "lines naming $name: $output"
	assert_match "$output" "SOCKS5_HELPER_USER $name: no such user.*adduser --system --group --no-create-home $name" \
	    "the refusal"
	! grep -q 'started' <<<"$output" || fail "it started: $output"
	# The same from the environment (file > environment > default).
	SOCKS5_HELPER_USER="$name" refused
	assert_eq "$status" 1 "exit status with the environment variable"
	assert_match "$output" "SOCKS5_HELPER_USER $name: no such user" "the refusal (environment)"
}

@test "SOCKS5_HELPER_USER equal to -u, or sharing its group: refused at start" {
	refused "set SOCKS5_HELPER_USER nobody"
	assert_eq "$status" 1 "exit status, helper user = the default -u nobody"
	assert_match "$output" "SOCKS5_HELPER_USER nobody is the workers' user \(-u nobody\)" "the refusal"
	refused -- -u _socks5d
	assert_eq "$status" 1 "exit status, -u _socks5d = the default helper user"
	assert_match "$output" "SOCKS5_HELPER_USER _socks5d is the workers' user \(-u _socks5d\)" "the refusal (-u)"
	# Another uid in the helpers' group.
	TEMP_USER="s5uid$$"
	useradd -M -N -g _socks5d -s /usr/sbin/nologin "$TEMP_USER"
	refused -- -u "$TEMP_USER"
	assert_eq "$status" 1 "exit status, -u in the helpers' group"
	assert_match "$output" "SOCKS5_HELPER_USER _socks5d has the workers' group" "the refusal (group)"
	# Positive twin: a user of its own is taken, and the helpers run as it.
	write_conf "$BATS_TEST_TMPDIR/t.conf" "set SOCKS5_HELPER_USER $TEMP_USER" "permit - - - - - -"
	daemon_start T "$BATS_TEST_TMPDIR/t.conf" -- -u nobody
	assert_eq "$(status_field "$(titled "$T_PID" "socks5d: resolver")" Uid)" \
	    "$(id -u "$TEMP_USER")" "resolver uid under SOCKS5_HELPER_USER $TEMP_USER"
}

@test "not started as root: SOCKS5_HELPER_USER does not apply, and the daemon says so" {
	local name="nosuch$$" dir port
	# A directory the unprivileged daemon can read its configuration in.
	dir=$(mktemp -d /tmp/socks5d-uids.XXXXXX)
	TEMP_DIR=$dir
	chmod 0755 "$dir"
	write_conf "$dir/n.conf" "set SOCKS5_HELPER_USER $name" "permit - - - - - -"
	chmod 0644 "$dir/n.conf"
	port=$(free_port)
	bg N setpriv --reuid "$(id -u nobody)" --regid "$(id -g nobody)" --clear-groups \
	    "$SOCKS5D" -f "$dir/n.conf" -l "127.0.0.1:$port"
	wait_until 10 _listening "" "$port" ||
	    fail "the unprivileged daemon did not start: $(cat "$BATS_TEST_TMPDIR/N.out")"
	grep -q "SOCKS5_HELPER_USER do not apply" "$BATS_TEST_TMPDIR/N.out" ||
	    fail "no word that the variable does not apply: $(cat "$BATS_TEST_TMPDIR/N.out")"
	! grep -q "no such user" "$BATS_TEST_TMPDIR/N.out" || fail "it looked the user up"
	run socks -p "127.0.0.1:$port" -d 127.0.0.1 -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0 "served as non-root"
}

@test "a reload that changes SOCKS5_HELPER_USER is logged; a restarted resolver keeps the ids checked at start" {
	local res new
	write_conf "$BATS_TEST_TMPDIR/h.conf" "permit - - - - - -"
	daemon_start H "$BATS_TEST_TMPDIR/h.conf"
	res=$(titled "$H_PID" "socks5d: resolver")
	[ -n "$res" ] || fail "no resolver"
	# The workers' user: refused at a start, so never taken on the fly.
	write_conf "$BATS_TEST_TMPDIR/h.conf" "set SOCKS5_HELPER_USER nobody" "permit - - - - - -"
	kill -HUP "$H_PID"
	wait_until 10 grep -q "reloaded" "$H_LOG" || fail "no reload: $(cat "$H_LOG")"
	grep -q "SOCKS5_HELPER_USER changed: takes effect at restart" "$H_LOG" ||
	    fail "the change was not logged: $(cat "$H_LOG")"
	kill -KILL "$res"
	wait_until 10 eval 'new=$(titled "$H_PID" "socks5d: resolver") && [ -n "$new" ] && [ "$new" != "$res" ]' ||
	    fail "the resolver was not restarted"
	new=$(titled "$H_PID" "socks5d: resolver")
	assert_eq "$(status_field "$new" Uid)" "$(id -u _socks5d)" "restarted resolver uid"
}

@test "inetd mode (-i): the worker as nobody, its resolver and audit logger as _socks5d" {
	local t=$BATS_TEST_TMPDIR w p res= log=
	bg inetd "$PY" "$HELPERS/launch.py" inetd --port-file "$t/port" \
	    --status-file "$t/status" -- "$SOCKS5D" -i -f "$BATS_FILE_TMPDIR/socks5.conf" \
	    -a "$t/audit.jsonl"
	wait_until 10 test -s "$t/port" || fail "launcher did not start"
	bg I socks -p "127.0.0.1:$(cat "$t/port")" -d 127.0.0.1 -P "$EH_PORT" \
	    --go-timeout 30 ready:"$t/I.ready" wait:"$t/I.go" send:done shutdown recv
	wait_until 20 test -e "$t/I.ready" || fail "no session: $(cat "$t/I.out")"
	# The -i process itself is the worker; the helpers are its children.
	w=$(daemon_children "$inetd_BGPID")
	[ -n "$w" ] || fail "no socks5d -i under the launcher"
	for p in $(daemon_children "$w"); do
		case $(title_of "$p") in
		"socks5d: resolver"*) res=$p ;;
		"socks5d: audit logger"*) log=$p ;;
		esac
	done
	[ -n "$res" ] && [ -n "$log" ] || fail "no resolver or logger under $w: $(ps -o pid,uid,args $(daemon_children "$w"))"
	read -r u g _ <<<"$(ids "$w")"
	assert_eq "$u $g" "$(id -u nobody) $(id -g nobody)" "the -i worker's uid and gid"
	assert_eq "$(ids "$res")" "$(id -u _socks5d) $(id -g _socks5d) -" "resolver under -i"
	assert_eq "$(ids "$log")" "$(id -u _socks5d) $(id -g _socks5d) -" "audit logger under -i"
	# The session ends; so does socks5d -i, and the launcher with it.
	touch "$t/I.go"
	bg_wait I 20
	assert_field recv-text "$(hashline done)"
	wait_until 20 test -s "$t/status" || fail "socks5d -i did not exit"
}
