#!/usr/bin/env bats
# The Debian package (make deb, debian/) and make install.  The package is
# built from a copy of the tree in the test's directory, installed with
# dpkg -i, checked, then removed and purged; teardown purges it whatever
# happened.  Skipped when the packaging tools are missing, and refused
# when this machine already has a socks5d package or files at the paths
# the package owns (someone else's: never overwritten).  systemd is not
# PID 1 here and the unit is never started: dh_installsystemd --no-enable
# --no-start, and deb-systemd-invoke does nothing without systemd.

load lib/common

REPO=$BATS_TEST_DIRNAME/..

setup_file() {
	export DEB=
	command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
	    return 0
	make -C "$REPO" --no-print-directory deb BUILD="$BATS_FILE_TMPDIR/b" \
	    >"$BATS_FILE_TMPDIR/deb-build.log" 2>&1 ||
	    { tail -30 "$BATS_FILE_TMPDIR/deb-build.log" >&2; return 1; }
	DEB=$(ls "$BATS_FILE_TMPDIR"/b/deb/socks5d_*.deb)
}

teardown_file() {
	if [ -e "$BATS_FILE_TMPDIR/installed" ]; then
		dpkg --purge socks5d >/dev/null 2>&1 || true
	fi
}

teardown() {
	cleanup_test
}

# forker_runs MASTER EXE: a forker of MASTER runs EXE, and has a spare
# (it started).
forker_runs() {
	local c k
	for c in $(daemon_children "$1"); do
		[ "$(readlink "/proc/$c/exe")" = "$2" ] || continue
		for k in $(daemon_children "$c"); do
			case $(tr '\0' ' ' <"/proc/$k/cmdline" 2>/dev/null) in
			"socks5d: spare"*) return 0 ;;
			esac
		done
	done
	return 1
}

need_deb() {
	[ -n "$DEB" ] || skip "dpkg-buildpackage or debhelper missing (contrib/deps.sh deb)"
}

@test "the .deb holds the daemon, /etc files as conffiles, units, man pages, docs" {
	need_deb
	local list
	list=$(dpkg-deb -c "$DEB" | awk '{print $6}')
	local f
	for f in ./usr/sbin/socks5d ./usr/libexec/socks5d/socks5d-session \
	    ./etc/socks5.conf ./etc/pam.d/socks5 \
	    ./etc/logrotate.d/socks5d ./lib/systemd/system/socks5d.service \
	    ./lib/systemd/system/socks5d.socket ./lib/systemd/system/socks5d@.service \
	    ./usr/share/man/man8/socks5d.8.gz ./usr/share/man/man5/socks5.conf.5.gz \
	    ./usr/share/doc/socks5d/copyright ./usr/share/doc/socks5d/examples/socks-int1.conf; do
		grep -qxF "$f" <<<"$list" || fail "$f is not in the package"
	done
	run dpkg-deb -f "$DEB" Depends
	assert_match "$output" 'libpam0g' "Depends (libpam is dlopen'ed)"
	dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles >"$BATS_TEST_TMPDIR/conffiles"
	for f in /etc/socks5.conf /etc/pam.d/socks5 /etc/logrotate.d/socks5d; do
		grep -qxF "$f" "$BATS_TEST_TMPDIR/conffiles" || fail "$f is not a conffile"
	done
	# The units are installed, never started, and enabled only again on
	# an upgrade where the operator had enabled them (was-enabled).
	dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./postinst >"$BATS_TEST_TMPDIR/postinst"
	! grep -q 'deb-systemd-invoke' "$BATS_TEST_TMPDIR/postinst" ||
	    fail "postinst starts a unit"
	assert_eq "$(grep -c 'deb-systemd-helper enable' "$BATS_TEST_TMPDIR/postinst")" \
	    "$(grep -c 'deb-systemd-helper --quiet was-enabled' "$BATS_TEST_TMPDIR/postinst")" \
	    "enables, each guarded by was-enabled"
	# The helpers' system user (SOCKS5_HELPER_USER), made as Debian
	# policy asks, with adduser, which the package then depends on.
	grep -q '^	adduser --system --group .*_socks5d' "$BATS_TEST_TMPDIR/postinst" ||
	    fail "postinst does not create _socks5d: $(cat "$BATS_TEST_TMPDIR/postinst")"
	run dpkg-deb -f "$DEB" Depends
	assert_match "$output" '(^|, )adduser(,|$)' "Depends (postinst runs adduser)"
}

@test "lintian: no errors and no warnings" {
	need_deb
	command -v lintian >/dev/null || skip "lintian missing (contrib/deps.sh deb)"
	run lintian "$DEB"
	echo "$output"
	! grep -E '^[EW]: ' <<<"$output" || fail "lintian: $output"
}

@test "dpkg -i, socks5d -t -f /etc/socks5.conf, the unit verifies; dpkg -r and --purge remove it" {
	need_deb
	dpkg -s socks5d >/dev/null 2>&1 &&
	    skip "a socks5d package is already installed on this machine"
	local f
	for f in /usr/sbin/socks5d /etc/socks5.conf /etc/pam.d/socks5 /etc/logrotate.d/socks5d; do
		[ ! -e "$f" ] || skip "$f exists and is not from a package: not overwritten"
	done
	touch "$BATS_FILE_TMPDIR/installed"
	run dpkg -i "$DEB"
	[ "$status" -eq 0 ] || fail "dpkg -i: $output"
	[ -x /usr/sbin/socks5d ] || fail "no /usr/sbin/socks5d"
	getent passwd _socks5d >/dev/null || fail "no _socks5d user after dpkg -i"
	run /usr/sbin/socks5d -t -f /etc/socks5.conf
	[ "$status" -eq 0 ] || fail "socks5d -t: $output"
	[ -x /usr/libexec/socks5d/socks5d-session ] || fail "no session image"
	write_conf "$BATS_TEST_TMPDIR/socks5.conf" "permit - - - - - -"
	SOCKS5D=/usr/sbin/socks5d daemon_start P "$BATS_TEST_TMPDIR/socks5.conf"
	grep -qF "session image /usr/libexec/socks5d/socks5d-session" "$P_LOG" ||
	    fail "/usr/sbin/socks5d did not find its image: $(cat "$P_LOG")"
	wait_until 10 forker_runs "$P_PID" /usr/libexec/socks5d/socks5d-session ||
	    fail "no forker runs the packaged image: $(ps -o pid,ppid,args $(daemon_tree "$P_PID"))"
	daemon_stop "$P_PID"
	# Loopback only: every permit line names 127. or ::1.
	run grep -E '^[[:space:]]*permit' /etc/socks5.conf
	[ "$status" -eq 0 ]
	! grep -vE '^[[:space:]]*permit[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+(127\.|::1)' <<<"$output" ||
	    fail "a permit line beyond loopback: $output"
	[ ! -e /etc/systemd/system/multi-user.target.wants/socks5d.service ] ||
	    fail "the service was enabled"
	[ ! -e /etc/systemd/system/sockets.target.wants/socks5d.socket ] ||
	    fail "the socket was enabled"
	if command -v systemd-analyze >/dev/null; then
		run systemd-analyze verify /lib/systemd/system/socks5d.service
		[ "$status" -eq 0 ] && [ -z "$output" ] ||
		    fail "systemd-analyze verify: $output"
		run systemd-analyze security --offline=yes /lib/systemd/system/socks5d.service
		local score
		score=$(sed -n 's/.*Overall exposure level for socks5d.service: \([0-9.]*\) .*/\1/p' <<<"$output")
		[ -n "$score" ] || fail "no exposure score: $output"
		awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' ||
		    fail "exposure $score is above 3.0"
	fi
	run dpkg -r socks5d
	[ "$status" -eq 0 ] || fail "dpkg -r: $output"
	[ ! -e /usr/sbin/socks5d ] || fail "dpkg -r left /usr/sbin/socks5d"
	[ -e /etc/socks5.conf ] || fail "dpkg -r removed a conffile"
	run dpkg --purge socks5d
	[ "$status" -eq 0 ] || fail "dpkg --purge: $output"
	for f in /etc/socks5.conf /etc/pam.d/socks5 /etc/logrotate.d/socks5d; do
		[ ! -e "$f" ] || fail "purge left $f"
	done
	rm -f "$BATS_FILE_TMPDIR/installed"
}

# make_install ARGS...: make install from the build under test (the
# directory of $SOCKS5D, with its SANITIZE setting), never from whatever
# BUILD the environment names: under make check-sanitize that is the ASan
# build, which a plain make must not relink.
make_install() {
	local build san=
	build=$(cd "$(dirname "$SOCKS5D")" && pwd)
	grep -qa __asan_init "$SOCKS5D" && san=1
	make -C "$REPO" --no-print-directory install BUILD="$build" \
	    SANITIZE="$san" "$@"
}

@test "make install: PREFIX paths in the units, /etc files only when absent" {
	local d=$BATS_TEST_TMPDIR/root
	make_install DESTDIR="$d" PREFIX=/opt/s5 >"$BATS_TEST_TMPDIR/install.log" 2>&1 ||
	    { cat "$BATS_TEST_TMPDIR/install.log" >&2; fail "make install"; }
	[ -x "$d/opt/s5/sbin/socks5d" ] || fail "no sbin/socks5d"
	if ! grep -qa __asan_init "$SOCKS5D"; then
		# The master finds the image from where it is: PREFIX/sbin ->
		# PREFIX/libexec/socks5d, wherever PREFIX and DESTDIR put them.
		[ -x "$d/opt/s5/libexec/socks5d/socks5d-session" ] ||
		    fail "no libexec/socks5d/socks5d-session"
		write_conf "$BATS_TEST_TMPDIR/socks5.conf" "permit - - - - - -"
		SOCKS5D="$d/opt/s5/sbin/socks5d" daemon_start P "$BATS_TEST_TMPDIR/socks5.conf"
		grep -qF "session image $d/opt/s5/libexec/socks5d/socks5d-session" "$P_LOG" ||
		    fail "the installed socks5d did not find its image: $(cat "$P_LOG")"
		wait_until 10 forker_runs "$P_PID" "$d/opt/s5/libexec/socks5d/socks5d-session" ||
		    fail "no forker runs the installed image: $(ps -o pid,ppid,args $(daemon_tree "$P_PID"))"
		daemon_stop "$P_PID"
	fi
	grep -q '^ExecStart=/opt/s5/sbin/socks5d ' "$d/opt/s5/lib/systemd/system/socks5d.service" ||
	    fail "unit does not name PREFIX's binary"
	cmp "$REPO/conf/socks5.conf" "$d/etc/socks5.conf" || fail "etc/socks5.conf"
	cmp "$REPO/contrib/pam.d/socks5" "$d/etc/pam.d/socks5" || fail "etc/pam.d/socks5"
	cmp "$REPO/contrib/socks5d.logrotate" "$d/etc/logrotate.d/socks5d" || fail "logrotate"
	echo "# edited by the operator" >>"$d/etc/socks5.conf"
	make_install DESTDIR="$d" PREFIX=/opt/s5 >"$BATS_TEST_TMPDIR/install2.log" 2>&1 ||
	    fail "second make install"
	grep -q 'edited by the operator' "$d/etc/socks5.conf" ||
	    fail "a second make install overwrote /etc/socks5.conf"
	grep -qF "keeping $d/etc/socks5.conf (exists)" "$BATS_TEST_TMPDIR/install2.log" ||
	    fail "no 'keeping' line: $(cat "$BATS_TEST_TMPDIR/install2.log")"
}
