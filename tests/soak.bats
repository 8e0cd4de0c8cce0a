#!/usr/bin/env bats
# Soak and faults: SOAK_SESSIONS sequential sessions (default 400 in
# make check, bounded by a loaded host's speed; the README figure is
# SOAK_SESSIONS=10000) keep the master's,
# authd's and the resolver's RSS flat (within 10%), leave no zombie and
# give exactly one request and one close record each; authd and the
# resolver killed with SIGKILL mid-run come back and serve; and a daemon
# limited to 64 descriptors holding 200 connections neither spins nor
# stops serving once they close.

load lib/common

SOAK_SESSIONS=${SOAK_SESSIONS:-400}

setup_file() {
	server_start EH echohash
}

teardown_file() {
	cleanup_file
}

teardown() {
	cleanup_test
}

# child_titled PID TITLE: the pid of PID's child with that title.
child_titled() {
	local c title
	for c in $(daemon_children "$1"); do
		title=
		{ IFS= read -r -d '' title <"/proc/$c/cmdline"; } 2>/dev/null
		[ "$title" = "$2" ] && { echo "$c"; return 0; }
	done
	return 1
}

# tree PID: "pid stat title" of every descendant of PID, from one ps (a
# ps per process, as daemon_tree runs, takes seconds on a loaded host).
tree() {
	ps -e -o pid=,ppid=,stat=,args= | awk -v root="$1" '
	    { pid[NR] = $1; ppid[NR] = $2; line[NR] = $0 }
	    END {
		keep[root] = 1
		do {
			changed = 0
			for (i = 1; i <= NR; i++)
				if ((ppid[i] in keep) && !(pid[i] in keep)) {
					keep[pid[i]] = 1; changed = 1
					print line[i]
				}
		} while (changed)
	    }'
}

# The daemon at rest: the audit logger, authd, the resolver, and one
# forker per CPU (at most 4) with its spare.
at_rest() {
	local nf
	nf=$(nproc)
	[ "$nf" -le 4 ] || nf=4
	[ "$(tree "$D_PID" | wc -l)" -eq $((3 + 2 * nf)) ]
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# batch N: N sequential sessions to "localhost" (so each asks the
# resolver; authd makes each one's ident query).  Prints ok=K fail=F.
batch() {
	multiclient -p "127.0.0.1:$D_PORT" -d localhost -P "$EH_PORT" -n "$1" \
	    --threads 1 --size 64 --timeout 10 | tail -1
}

# within_10pct BEFORE AFTER WHAT
within_10pct() {
	[ $(($2 * 10)) -le $(($1 * 11)) ] ||
	    fail "$3 RSS grew from $1 kB to $2 kB (more than 10%)"
}

@test "soak: $SOAK_SESSIONS sequential sessions, authd and resolver killed mid-run: RSS flat, no zombies, one request and one close each" {
	local authd res out m0 a0 r0 m1 a1 r1 total bad
	start "permit - - - - - -"
	assert_eq "$(batch 20)" "ok=20 fail=0" "warm-up"
	authd=$(child_titled "$D_PID" "socks5d: authd")
	res=$(child_titled "$D_PID" "socks5d: resolver")
	# Mid-run: both helpers killed while sessions are under way.  A
	# session in flight at that moment may fail, closed; none may hang.
	bg B batch 60
	sleep 1
	kill -KILL "$authd" "$res"
	bg_wait B 300
	echo "$output"
	assert_match "$output" '^ok=(5[89]|60) fail=[0-2]$' "the batch across the kills"
	wait_until 10 eval 'a=$(child_titled "$D_PID" "socks5d: authd") && [ "$a" != "$authd" ] &&
	    r=$(child_titled "$D_PID" "socks5d: resolver") && [ "$r" != "$res" ]' ||
	    fail "authd or the resolver was not restarted"
	assert_eq "$(batch 20)" "ok=20 fail=0" "served by the restarted helpers"
	authd=$(child_titled "$D_PID" "socks5d: authd")
	res=$(child_titled "$D_PID" "socks5d: resolver")
	m0=$(rss_kb "$D_PID") a0=$(rss_kb "$authd") r0=$(rss_kb "$res")
	assert_eq "$(batch "$SOAK_SESSIONS")" "ok=$SOAK_SESSIONS fail=0"
	m1=$(rss_kb "$D_PID") a1=$(rss_kb "$authd") r1=$(rss_kb "$res")
	echo "RSS kB: master $m0 -> $m1, authd $a0 -> $a1, resolver $r0 -> $r1"
	within_10pct "$m0" "$m1" master
	within_10pct "$a0" "$a1" authd
	within_10pct "$r0" "$r1" resolver
	assert_eq "$(child_titled "$D_PID" "socks5d: authd")" "$authd" "authd not restarted again"
	assert_eq "$(child_titled "$D_PID" "socks5d: resolver")" "$res" "resolver not restarted again"
	# No zombie anywhere in the tree, and no worker left over.
	wait_until 20 at_rest || fail "processes left: $(tree "$D_PID")"
	[ -z "$(tree "$D_PID" | awk '$3 ~ /^Z/')" ] || fail "zombies: $(tree "$D_PID")"
	# Every session: exactly one request and one close record, by the
	# worker's pid (stamped by the audit logger), and as many request
	# records as sessions were run.  Past pid_max (32768 here) pids come
	# round again, so a pid may serve several sessions one after the
	# other: its records must then alternate, request then close.
	total=$((20 + 60 + 20 + SOAK_SESSIONS))
	wait_until 20 eval '[ "$(audit_count "$AUDIT" event close)" -ge $total ]'
	run "$PY" -c 'import json,sys
from collections import defaultdict
seq = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] in ("request", "close"): seq[r["pid"]].append(r["event"])
bad = [p for p, s in seq.items() if s != ["request", "close"] * (len(s) // 2)]
print("sessions=%d bad=%d" % (sum(s.count("request") for s in seq.values()), len(bad)))
for p in bad[:5]: print("pid %d: %s" % (p, " ".join(seq[p][:6])))' "$AUDIT"
	echo "$output"
	assert_eq "${lines[0]}" "sessions=$total bad=0"
}

@test "64 descriptors, 200 connections held: under 10% CPU over 10 s, and service once they close" {
	local pids p t0 t1 cpu
	# The whole daemon under ulimit -n 64 (each process inherits it).
	# No startup limits: this is about descriptors, and all 200 come
	# from one address (tests/limits.bats covers SOCKS5_MAXSTARTUPS).
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "set SOCKS5_NEGTIMEOUT 60" \
	    "set SOCKS5_MAXSTARTUPS 0" "set SOCKS5_MAXSTARTUPS_PER_SOURCE 0" \
	    "permit - - - - - -"
	AUDIT="$BATS_TEST_TMPDIR/audit.jsonl"
	cat >"$BATS_TEST_TMPDIR/socks5d-limited" <<EOF2
#!/bin/sh
ulimit -n 64 && exec "$SOCKS5D" "\$@"
EOF2
	chmod +x "$BATS_TEST_TMPDIR/socks5d-limited"
	SOCKS5D="$BATS_TEST_TMPDIR/socks5d-limited" daemon_start D \
	    "$BATS_TEST_TMPDIR/socks5.conf" -- -a "$AUDIT"
	assert_match "$(grep 'open files' "/proc/$D_PID/limits")" ' 64 +64 '
	# 200 connections that send nothing: each waits in negotiation.
	bg H "$PY" -c 'import os,socket,sys,time
socks = []
for i in range(200):
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    socks.append(s)
print("held=%d" % len(socks), flush=True)
for _ in range(600):
    if os.path.exists(sys.argv[2]): break
    time.sleep(0.1)
for s in socks: s.close()
print("closed", flush=True)' "$D_PORT" "$BATS_TEST_TMPDIR/release"
	wait_until 30 eval 'grep -q held= "$BATS_TEST_TMPDIR/H.out"' || fail "could not open 200 connections"
	# All 200 are being served (one worker each), none refused.
	wait_until 30 eval '[ "$(tree "$D_PID" | grep -c "socks5d: worker")" -ge 200 ]' ||
	    fail "$(tree "$D_PID" | grep -c "socks5d: worker") workers for 200 connections"
	pids=$(tree "$D_PID" | awk '$4 != "socks5d:" || $5 != "worker" { print $1 }')
	pids="$D_PID $pids"
	t0=0
	for p in $pids; do t0=$((t0 + $(cpu_ticks "$p" || echo 0))); done
	sleep 10
	t1=0
	for p in $pids; do t1=$((t1 + $(cpu_ticks "$p" || echo 0))); done
	cpu=$(( (t1 - t0) * 100 / ($(getconf CLK_TCK) * 10) ))
	echo "master, logger, helpers, forkers: ${cpu}% of a CPU over 10 s"
	[ "$cpu" -lt 10 ] || fail "the daemon spins: ${cpu}% CPU"
	touch "$BATS_TEST_TMPDIR/release"
	bg_wait H 30
	assert_match "$output" closed
	wait_until 30 at_rest || fail "workers left: $(tree "$D_PID")"
	assert_serves "$D_PORT" "$EH_PORT"
}
