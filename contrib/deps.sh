#!/bin/sh
# Installs what a fresh Debian 12 machine lacks to build (deps.sh build) or
# to build and test (deps.sh test) socks5d.  Only missing packages are
# installed; as non-root it prints the apt-get line and stops.
set -eu
BUILD_PKGS="gcc make libc6-dev libpam0g-dev libwrap0-dev libseccomp-dev libcrypt-dev libkrb5-dev"
TEST_PKGS="$BUILD_PKGS clang libclang-rt-14-dev bats curl ncat python3 procps iproute2 proxychains4 dante-client dante-server passwd util-linux libpam-wrapper whois openssl haproxy dpkg-dev debhelper lintian krb5-kdc krb5-admin-server krb5-user python3-gssapi strace"

case "${1:-build}" in
build) want=$BUILD_PKGS ;;
test) want=$TEST_PKGS ;;
bench) want="$TEST_PKGS dante-server microsocks gnuplot-nox" ;;
# make deb alone (tests/deb.bats, in make check, needs these too: the
# package builds in about 40 s).
deb) want="$BUILD_PKGS dpkg-dev debhelper lintian" ;;
*) echo "usage: deps.sh build|test|bench|deb" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q '^installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

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
