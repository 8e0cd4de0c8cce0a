# The bench table: reads bench.sh's per-run files (path .../SERVER.RUN, one
# key=value per line) and prints, per figure, the median over runs for each
# server, socks5d's ratio to each peer, plain TCP as a reference, and
# whether socks5d meets the target the Bench issue sets.
# Variables: c1, c32, hold (the session counts, for the labels); with
# mode=runs it lists every run's value instead (run 1/run 2/...), to show
# the spread behind each median.

function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	if (n == 0)
		return ""
	for (i = 2; i <= n; i++) {          # insertion sort: n is tiny
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n % 2)
		return a[(n + 1) / 2] + 0
	return (a[n / 2] + a[n / 2 + 1]) / 2
}

function fmt(v) {
	if (v == "")
		return "n/a"
	if (v == int(v))
		return sprintf("%d", v)   # counts, and round figures
	if (v >= 100 || v <= -100)
		return sprintf("%.0f", v)
	if (v >= 10 || v <= -10)
		return sprintf("%.1f", v)
	return sprintf("%.2f", v)
}

function ratio(a, b) {
	if (a == "" || b == "" || b + 0 == 0)
		return "-"
	return sprintf("%.2fx", a / b)
}

function row(k, label, kind, arg) {
	nrows++
	rkey[nrows] = k
	rlabel[nrows] = label
	rkind[nrows] = kind
	rarg[nrows] = arg
}

# verdict(kind, arg, socks5d, sockd, microsocks): the target column.
function verdict(kind, arg, s, d, m,    ok, what) {
	if (kind == "")
		return ""
	if (kind == "ge_sockd") {
		what = ">= " arg "x sockd"
		ok = (s != "" && d != "") ? (s >= arg * d) : -1
	} else if (kind == "le_sockd") {
		what = "<= " arg "x sockd"
		ok = (s != "" && d != "") ? (s <= arg * d) : -1
	} else if (kind == "ge_micro_0fail") {
		what = ">= microsocks, 0 failed"
		ok = (s != "" && m != "" && maxfail != "") ? \
		    (s >= m && maxfail == 0) : -1
	} else if (kind == "le_micro") {
		what = "<= microsocks"
		ok = (s != "" && m != "") ? (s <= m) : -1
	} else if (kind == "le_abs") {
		what = "<= " arg
		ok = (s != "") ? (s <= arg) : -1
	} else if (kind == "le_floor_ms") {
		# arg x the bare fork of the same run(s), in ms
		what = "<= " arg "x fork floor (" fmt(ffork / 1000) " ms)"
		ok = (s != "" && ffork != "") ? (s <= arg * ffork / 1000) : -1
		if (s != "" && ffork != "")
			what = what sprintf(", %.1fx", s / (ffork / 1000))
	} else if (kind == "ge_floor_rate") {
		# arg x the host's forks/s with every core busy, and >= sockd
		# wherever that rate is >= 1.5x sockd's; 0 failed
		what = ">= " arg "x forks/s (" fmt(frate) "), 0 failed"
		ok = (s != "" && frate != "" && maxfail != "") ? \
		    (s >= arg * frate && maxfail == 0) : -1
		if (ok == 1 && d != "" && frate >= 1.5 * d && s < d)
			ok = 0
		if (s != "" && frate != "")
			what = what sprintf(", %.2fx", s / frate)
	} else if (kind == "eq0") {
		what = "0 in every run"
		ok = (maxfail != "") ? (maxfail == 0) : -1
	}
	return what ": " (ok == -1 ? "n/a" : ok ? "met" : "MISSED")
}

BEGIN {
	row("tp_up1_mib_s", "throughput 1 stream up (MiB/s)", "ge_sockd", 1.5)
	row("tp_up8_mib_s", "throughput 8 streams up (MiB/s)", "ge_sockd", 2)
	row("tp_down1_mib_s", "throughput 1 stream down (MiB/s)", "ge_sockd", 1.5)
	row("tp_down8_mib_s", "throughput 8 streams down (MiB/s)", "ge_sockd", 2)
	row("cpu_s_per_gib", "server CPU s per GiB relayed", "le_sockd", 0.5)
	row("c1_sessions_s", "sessions/s, c=1", "ge_sockd", 1.2)
	row("c1_p50_ms", "  p50 latency, c=1 (ms)", "le_sockd", 1)
	row("c1_p99_ms", "  p99 latency, c=1 (ms)", "", "")
	row("c1_failed", "  failed sessions, c=1 (of " c1 ")", "", "")
	row("c32_sessions_s", "sessions/s, c=32", "ge_floor_rate", 0.7)
	row("c32_cpu_ms", "  server CPU per session, c=32 (ms)", "le_floor_ms", 1.5)
	row("c32_faults", "  server page faults per session, c=32", "", "")
	row("c32_p50_ms", "  p50 latency, c=32 (ms)", "", "")
	row("c32_p99_ms", "  p99 latency, c=32 (ms)", "le_micro", "")
	row("c32_failed", "  failed sessions, c=32 (of " c32 ")", "eq0", "")
	row("hold_pss_per_session_kib", "idle PSS per held session (KiB)", "le_abs", 48)
	row("hold_kernel_per_session_kib", "kernel memory per held session (KiB)", "le_abs", 64)
	row("hold_pagetables_per_session_kib", "  of which page tables (KiB)", "", "")
	row("hold_failed", "  sessions not held (of " hold ")", "", "")
	row("fb_p50_us", "first reply after connect, p50 (us)", "", "")
	row("fb_p99_us", "first reply after connect, p99 (us)", "", "")
	nsrv = split(servers, srv, " ")
}

{
	n = split(FILENAME, part, "/")
	server = part[n]
	sub(/\.[0-9]+$/, "", server)
	eq = index($0, "=")
	if (eq == 0)
		next
	key = substr($0, 1, eq - 1)
	val = substr($0, eq + 1)
	vals[server, key] = vals[server, key] " " val
	if (!((server, key) in maxv) || val + 0 > maxv[server, key])
		maxv[server, key] = val + 0
}

function runs_table(    i, j, k, v) {
	printf "%-38s", "figure (run 1/run 2/...)"
	for (j = 1; j <= nsrv; j++)
		printf " | %-20s", srv[j]
	printf "\n"
	split("floor_fork_us floor_fork_dyn_us floor_forks_s floor_spawn_us " \
	    "floor_page_read_us floor_page_cow_us floor_page_fresh_us", fkeys, " ")
	for (i = 1; i <= nrows + 7; i++) {
		k = i <= nrows ? rkey[i] : fkeys[i - nrows]
		if (i > nrows) {
			v = vals["floor", k]
			sub(/^ /, "", v)
			gsub(/ /, "/", v)
			printf "%-38s | %s\n", k, v == "" ? "n/a" : v
			continue
		}
		printf "%-38s", rlabel[i]
		for (j = 1; j <= nsrv; j++) {
			v = vals[srv[j], k]
			sub(/^ /, "", v)
			gsub(/ /, "/", v)
			printf " | %-20s", v == "" ? "n/a" : v
		}
		printf "\n"
	}
}

# The chained rows: one hop and two hops of the same server, and ratios.
function chain_table(    i, k, s, sc, d, dc, fmtc, keys, n) {
	n = split("tp_up1_mib_s tp_up8_mib_s tp_down1_mib_s tp_down8_mib_s " \
	    "cpu_s_per_gib c1_sessions_s c1_p50_ms c32_sessions_s c32_p50_ms " \
	    "c32_failed", keys, " ")
	fmtc = "%-38s | %9s | %10s | %11s | %9s | %10s | %11s | %14s\n"
	printf fmtc, "figure", "socks5d", "s5d->s5d", "chain/1 hop", "sockd", \
	    "sockd->sd", "chain/1 hop", "s5d/sd chained"
	for (i = 1; i <= n; i++) {
		k = keys[i]
		s = median(vals["socks5d", k])
		sc = median(vals["s5chain", k])
		d = median(vals["sockd", k])
		dc = median(vals["dchain", k])
		printf fmtc, label_of[k], fmt(s), fmt(sc), ratio(sc, s), fmt(d), \
		    fmt(dc), ratio(dc, d), ratio(sc, dc)
	}
}

# The picture's data (tests/bench/plot.sh): one line per figure, the
# medians of socks5d, sockd, microsocks, direct ("NaN": none), and the
# floor the figure is bounded by (sessions/s and CPU per session), or NaN.
function data_table(    i, j, k, v, fl) {
	for (i = 1; i <= nrows; i++) {
		k = rkey[i]
		if (k ~ /(_failed|_p99_ms|_p99_us)$/)
			continue
		fl = "NaN"
		if (k == "c32_sessions_s" && frate != "")
			fl = frate
		else if (k == "c1_sessions_s" && ffork != "")
			fl = 1e6 / ffork
		else if (k == "c32_cpu_ms" && ffork != "")
			fl = ffork / 1000
		v = rlabel[i]
		sub(/^ +/, "", v)
		gsub(/"/, "", v)
		printf "\"%s\"", v
		for (j = 1; j <= nsrv; j++) {
			m = median(vals[srv[j], k])
			printf " %s", m == "" ? "NaN" : m
		}
		printf " %s\n", fl
	}
}

END {
	for (i = 1; i <= nrows; i++)
		label_of[rkey[i]] = rlabel[i]
	ffork = median(vals["floor", "floor_fork_us"])
	frate = median(vals["floor", "floor_forks_s"])
	fspawn = median(vals["floor", "floor_spawn_us"])
	if (mode == "runs") {
		runs_table()
		exit
	}
	if (mode == "data") {
		data_table()
		exit
	}
	if (mode == "chain") {
		chain_table()
		exit
	}
	fmtrow = "%-38s | %9s | %9s | %10s | %13s | %18s | %9s | %s\n"
	printf fmtrow, "figure", "socks5d", "sockd", "microsocks", \
	    "socks5d/sockd", "socks5d/microsocks", "direct", "target"
	line = sprintf(fmtrow, "", "", "", "", "", "", "", \
	    sprintf("%28s", ""))
	gsub(/[^|\n]/, "-", line)
	printf "%s", line
	for (i = 1; i <= nrows; i++) {
		k = rkey[i]
		s = median(vals["socks5d", k])
		d = median(vals["sockd", k])
		m = median(vals["microsocks", k])
		t = median(vals["direct", k])
		# "0 failed" targets look at the worst run, not the median.
		fk = (k == "c32_sessions_s") ? "c32_failed" : k
		maxfail = (("socks5d", fk) in maxv) ? maxv["socks5d", fk] : ""
		printf fmtrow, rlabel[i], fmt(s), fmt(d), fmt(m), ratio(s, d), \
		    ratio(s, m), fmt(t), verdict(rkind[i], rarg[i], s, d, m)
	}
	printf "\nhost floor (same run, median of runs):\n"
	printf "  bare fork+exit+wait of a minimal process, one loop (us): %s\n", \
	    fmt(ffork)
	printf "  the same, linked dynamically as socks5d is (us):         %s\n", \
	    fmt(median(vals["floor", "floor_fork_dyn_us"]))
	printf "  bare forks/s, one loop per core:                        %s\n", \
	    fmt(frate)
	printf "  posix_spawn+exec+wait of a minimal static program (us): %s\n", \
	    fmt(fspawn)
	printf "  a child's first read of a page its parent touched (us): %s\n", \
	    fmt(median(vals["floor", "floor_page_read_us"]))
	printf "  its first write there, a copy-on-write fault (us):      %s\n", \
	    fmt(median(vals["floor", "floor_page_cow_us"]))
	printf "  its first write of a page nobody touched (us):          %s\n", \
	    fmt(median(vals["floor", "floor_page_fresh_us"]))
	s = median(vals["socks5d", "c32_cpu_ms"])
	if (s != "" && ffork != "")
		printf "  socks5d server CPU per session at c=32 = %.1fx the fork floor\n", \
		    s / (ffork / 1000)
}
