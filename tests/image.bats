#!/usr/bin/env bats
# The session image (forker/image.c, master/image.c): each forker is
# exec'd from socks5d-session, a static program found next to socks5d, so
# its workers map neither libc.so nor ld.so and each forker has an address
# layout of its own; rules with port names work there (the master's
# look-ups travel in the sealed configuration, the image has no NSS); the
# image refuses to run on its own; without a usable image the master says
# so and forks its forkers from itself.  Runs as root.

load lib/common

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "the image tests need root"
	grep -qa __asan_init "$SOCKS5D" && skip "the sanitizer build has no session image"
	IMAGE="$(dirname "$SOCKS5D")/socks5d-session"
	export IMAGE
	server_start EH echohash
	write_conf "$BATS_FILE_TMPDIR/socks5.conf" \
	    "set SOCKS5_HOSTS_ALLOW $BATS_FILE_TMPDIR/none.allow" \
	    "set SOCKS5_HOSTS_DENY $BATS_FILE_TMPDIR/none.deny" \
	    "deny - - - - - discard" \
	    "permit - - - - - -"
	AUDIT="$BATS_FILE_TMPDIR/audit.jsonl"
	export AUDIT
	daemon_start I "$BATS_FILE_TMPDIR/socks5.conf" -- -a "$AUDIT"
	NF=$(nproc)
	[ "$NF" -le 4 ] || NF=4
	export NF
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# forkers_of PID: the forkers of the master PID, one per line.
forkers_of() {
	local c
	for c in $(daemon_children "$1"); do
		case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in
		"socks5d: forker"*) echo "$c" ;;
		esac
	done
}

# spare_of PID: the spare of forker PID.
spare_of() {
	local c
	for c in $(daemon_children "$1"); do
		case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in
		"socks5d: spare"*) echo "$c"; return 0 ;;
		esac
	done
	return 1
}

all_spared() { # MASTER: NF forkers, each with a spare
	local f n=0
	for f in $(forkers_of "$1"); do
		spare_of "$f" >/dev/null || return 1
		n=$((n + 1))
	done
	[ "$n" -eq "$NF" ]
}

# socks5d_in DIR: a copy of socks5d alone in DIR (made, mode 755);
# prints its path.
socks5d_in() {
	mkdir -p "$1" && chmod 755 "$1" && cp "$(dirname "$IMAGE")/socks5d" "$1/socks5d" &&
	    echo "$1/socks5d"
}

# master_forks_and_serves NAME: daemon NAME's forkers are forks of its
# own program ($SOCKS5D), each with a spare, and a client is served.
master_forks_and_serves() {
	local pid_var=${1}_PID port_var=${1}_PORT f
	wait_until 15 all_spared "${!pid_var}" || fail "forkers not ready: $(ps -o pid,ppid,args $(daemon_tree "${!pid_var}"))"
	for f in $(forkers_of "${!pid_var}"); do
		assert_eq "$(readlink "/proc/$f/exe")" "$SOCKS5D" "forker $f's program"
	done
	run socks -p "127.0.0.1:${!port_var}" -d 127.0.0.1 -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0 "served"
	assert_field recv-text "$(hashline x)"
}

# image_forkers MASTER: every forker of MASTER runs the image, and the
# master never gave it up.
image_forkers() {
	local f
	for f in $(forkers_of "$1"); do
		assert_eq "$(readlink "/proc/$f/exe")" "$(readlink -f "$IMAGE")" "forker $f's program"
	done
	! grep -q "session image failed" "$I_LOG" || fail "the master gave the image up: $(cat "$I_LOG")"
}

# exe_base PID: the lowest address the program itself is mapped at.
exe_base() {
	local exe
	exe=$(readlink "/proc/$1/exe") || return 1
	awk -v exe="$exe" '$6 == exe { split($1, a, "-"); print a[1]; exit }' "/proc/$1/maps"
}

@test "forkers and their spares run socks5d-session; a spare maps no libc.so, no ld.so, nothing but the image" {
	local f s maps
	[ -x "$IMAGE" ] || fail "no $IMAGE"
	wait_until 10 all_spared "$I_PID" ||
	    fail "want $NF forkers with a spare each: $(ps -o pid,ppid,args $(daemon_tree "$I_PID"))"
	assert_eq "$(readlink "/proc/$I_PID/exe")" "$(readlink -f "$SOCKS5D")" "the master's program"
	grep -q '/libc\.so' "/proc/$I_PID/maps" || fail "the master maps no libc.so: the check below proves nothing"
	for f in $(forkers_of "$I_PID"); do
		assert_eq "$(readlink "/proc/$f/exe")" "$(readlink -f "$IMAGE")" "forker $f's program"
		s=$(spare_of "$f")
		assert_eq "$(readlink "/proc/$s/exe")" "$(readlink -f "$IMAGE")" "spare $s's program"
		maps=$(awk '$6 ~ /^\// && $6 !~ /^\/memfd:/ { print $6 }' "/proc/$s/maps" | sort -u)
		assert_eq "$maps" "$(readlink -f "$IMAGE")" "files spare $s maps"
	done
	grep -q "session image $(readlink -f "$IMAGE")" "$I_LOG" ||
	    grep -q "session image $IMAGE" "$I_LOG" || fail "no log line naming the image: $(cat "$I_LOG")"
}

@test "each forker has an address layout of its own, not the master's" {
	local f bases mb
	wait_until 10 all_spared "$I_PID" || fail "forkers not ready"
	mb=$(exe_base "$I_PID")
	bases=$mb
	for f in $(forkers_of "$I_PID"); do
		bases="$bases $(exe_base "$f")"
	done
	# Each exec draws its own base: NF + 1 distinct values.  (A clash of
	# two random bases is a 1 in 2^28 chance per pair.)
	assert_eq "$(echo "$bases" | tr ' ' '\n' | sort -u | wc -l | tr -d ' ')" $((NF + 1)) \
	    "distinct program bases of the master and its forkers ($bases)"
}

@test "a rule naming a port (discard) is applied by the image's workers" {
	wait_until 10 all_spared "$I_PID" || fail "forkers not ready"
	image_forkers "$I_PID"
	run socks -p "127.0.0.1:$I_PORT" -d 127.0.0.1 -P 9
	assert_field reply 2 "CONNECT to the discard port, denied by name"
	local line
	line=$(grep -n '^deny - - - - - discard$' "$BATS_FILE_TMPDIR/socks5.conf" | cut -d: -f1)
	wait_until 5 eval '[ "$(audit_count "$AUDIT" event request decision deny dest 127.0.0.1:9)" -ge 1 ]' ||
	    fail "no deny record: $(tail -5 "$AUDIT")"
	assert_match "$(audit_records "$AUDIT" event request decision deny dest 127.0.0.1:9)" \
	    "\"rule\":\"socks5.conf:$line\"" "the deny names the discard line"
	run socks -p "127.0.0.1:$I_PORT" -d 127.0.0.1 -P "$EH_PORT" send:x shutdown recv
	assert_field reply 0 "another port is permitted"
}

@test "SIGHUP: the new forkers parse the new file (a new port name)" {
	local old
	old=$(forkers_of "$I_PID" | sort | tr '\n' ' ')
	cp "$BATS_FILE_TMPDIR/socks5.conf" "$BATS_TEST_TMPDIR/saved.conf"
	sed -i 's/^deny - - - - - discard$/deny - - - - - daytime/' "$BATS_FILE_TMPDIR/socks5.conf"
	kill -HUP "$I_PID"
	wait_until 10 eval '[ "$(forkers_of "$I_PID" | sort | tr "\n" " ")" != "$old" ] && all_spared "$I_PID"' ||
	    fail "no new forkers after SIGHUP: $(ps -o pid,ppid,args $(daemon_tree "$I_PID"))"
	image_forkers "$I_PID"
	run socks -p "127.0.0.1:$I_PORT" -d 127.0.0.1 -P 13
	assert_field reply 2 "daytime (13) denied after the reload"
	run socks -p "127.0.0.1:$I_PORT" -d 127.0.0.1 -P 9
	# Permitted now; nothing listens there, so the connect fails (5).
	assert_field reply 5 "discard (9) no longer denied"
	cp "$BATS_TEST_TMPDIR/saved.conf" "$BATS_FILE_TMPDIR/socks5.conf"
	kill -HUP "$I_PID"
	wait_until 10 all_spared "$I_PID"
}

@test "socks5d-session run by hand refuses, naming who starts it" {
	run "$IMAGE"
	[ "$status" -ne 0 ] || fail "exit status 0"
	assert_match "$output" "socks5d starts it" "its message"
	run "$IMAGE" 3 3<&-
	[ "$status" -ne 0 ] || fail "with a closed descriptor: exit status 0"
	run "$IMAGE" 3 3</dev/null
	[ "$status" -ne 0 ] || fail "with a file for a channel: exit status 0"
	assert_match "$output" "no valid set-up" "with a file for a channel"
}

@test "no image next to socks5d: the master says so, forks its forkers itself, and serves" {
	local SOCKS5D
	SOCKS5D=$(socks5d_in "$BATS_TEST_TMPDIR/alone")
	daemon_start N "$BATS_FILE_TMPDIR/socks5.conf"
	grep -q "no session image" "$N_LOG" || fail "no log line: $(cat "$N_LOG")"
	master_forks_and_serves N
}

@test "an image others may write to, in a directory others may write to, or set-id is not used" {
	local dir=$BATS_TEST_TMPDIR/open SOCKS5D how
	SOCKS5D=$(socks5d_in "$dir")
	cp "$IMAGE" "$dir/socks5d-session"
	for how in file dir setuid; do
		chmod 0755 "$dir" "$dir/socks5d-session"
		case $how in
		file) chmod 0775 "$dir/socks5d-session" ;;
		dir) chmod 0777 "$dir" ;;
		setuid) chmod 4755 "$dir/socks5d-session" ;;
		esac
		daemon_start W "$BATS_FILE_TMPDIR/socks5.conf"
		chmod 0755 "$dir"
		grep -q "socks5d-session: not used" "$W_LOG" || fail "$how: no refusal: $(cat "$W_LOG")"
		master_forks_and_serves W
		daemon_stop "$W_PID"
		: >"$W_LOG"
	done
}

@test "an image that cannot start (another build's): three tries, then the master's own forkers serve" {
	local dir=$BATS_TEST_TMPDIR/other SOCKS5D
	SOCKS5D=$(socks5d_in "$dir")
	# A program that exits non-zero at once, as an image of another build
	# refusing the set-up does (test_ipc pins that refusal).
	cp "$(type -P false)" "$dir/socks5d-session"
	chmod 0755 "$dir/socks5d-session"
	daemon_start X "$BATS_FILE_TMPDIR/socks5.conf"
	wait_until 40 grep -q "session image failed 3 times" "$X_LOG" ||
	    fail "no give-up line: $(cat "$X_LOG")"
	master_forks_and_serves X
}
