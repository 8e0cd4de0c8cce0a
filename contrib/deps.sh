#!/bin/sh
# Installs what a fresh Debian 12 machine lacks to build (deps.sh build) or
# to build and test (deps.sh test) socks5d.  Only missing packages are
# installed; as non-root it prints the apt-get line and stops.  For build,
# test and bench it also creates the system user the resolver and the audit
# logger run as (SOCKS5_HELPER_USER, default _socks5d), without which a
# daemon started as root refuses to start; the Debian package's postinst
# creates it the same way.
set -eu
BUILD_PKGS="gcc make libc6-dev libpam0g-dev libwrap0-dev libseccomp-dev libcrypt-dev libkrb5-dev adduser"
HELPER_USER=_socks5d
TEST_PKGS="$BUILD_PKGS netbase clang libclang-rt-14-dev bats curl ncat python3 procps iproute2 proxychains4 dante-client dante-server passwd util-linux libpam-wrapper whois openssl haproxy dpkg-dev debhelper lintian krb5-kdc krb5-admin-server krb5-user python3-gssapi strace"

need_user=1
case "${1:-build}" in
build) want=$BUILD_PKGS ;;
test) want=$TEST_PKGS ;;
bench) want="$TEST_PKGS dante-server microsocks gnuplot-nox" ;;
# make deb alone (tests/deb.bats, in make check, needs these too: the
# package builds in about 40 s).
deb) want="$BUILD_PKGS dpkg-dev debhelper lintian"; need_user= ;;
*) echo "usage: deps.sh build|test|bench|deb" >&2; exit 2 ;;
esac

# The helpers' user, as Debian packages make theirs (adduser --system):
# a group of its own, no home, no shell.  Only root can, and only a
# daemon started as root needs it; others are told the command.
helper_user() {
	[ -n "$need_user" ] || return 0
	getent passwd "$HELPER_USER" >/dev/null && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "socks5d started as root needs the system user $HELPER_USER;" \
		    "as root:  adduser --system --group --no-create-home $HELPER_USER" >&2
		return 0
	fi
	echo "creating the system user $HELPER_USER" >&2
	adduser --system --group --no-create-home --quiet "$HELPER_USER"
}

missing=
for p in $want; do
	if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q '^installed$'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	helper_user
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "socks5d needs these Debian packages:$missing" >&2
	echo "run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
helper_user
