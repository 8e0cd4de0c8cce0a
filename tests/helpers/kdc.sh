#!/bin/sh
# A throwaway MIT Kerberos realm for tests/gssapi.bats:
#   kdc.sh DIR      create realm EXAMPLE.TEST under DIR for a krb5kdc on a
#                   free loopback port; prints "KDC_PORT=...".  The caller
#                   starts `krb5kdc -n` itself (so that it is the caller's
#                   child, stopped by pid) with the environment of DIR/env.sh.
#   kdc.sh --port DIR   another free port for the same realm (when the one
#                   printed was taken before krb5kdc could bind it).
# The port is picked last, right before it is printed: the database takes
# seconds to make, and a port picked first was free for that long for
# anyone else (other tests run beside this one).
# Everything lives under DIR: krb5.conf, kdc.conf, the database, the
# service keytab (rcmd/127.0.0.1, rcmd/localhost) and a replay-cache
# directory.  Nothing under /etc is read or changed: KRB5_CONFIG and
# KRB5_KDC_PROFILE point into DIR for every command run here, and the
# caller exports the same (see env.sh written below).
# Users: alice (password alice-pw), bob (bob-pw), carol (carol-pw).
set -eu
py=${PY:-python3}

# pick_port DIR: a free loopback port, written into DIR's two files.
pick_port() {
	_port=$("$py" -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	sed -i "s/^\(\t*kdc = 127.0.0.1:\).*/\1$_port/" "$1/krb5.conf"
	sed -i "s/^\(\t*kdc_\(tcp_\)\{0,1\}ports = \).*/\1$_port/" "$1/kdc.conf"
	echo "KDC_PORT=$_port"
}

if [ "$1" = --port ]; then
	pick_port "$2"
	exit
fi
dir=$1
port=0        # until pick_port
mkdir -p "$dir/db" "$dir/rcache"

cat >"$dir/krb5.conf" <<EOF
[libdefaults]
	default_realm = EXAMPLE.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	udp_preference_limit = 1
	ticket_lifetime = 1h
	# Short, so that an expired ticket is refused seconds after its end
	# (the default 300 s would make the expiry test wait five minutes).
	clockskew = 1
[realms]
	EXAMPLE.TEST = {
		kdc = 127.0.0.1:$port
	}
[domain_realm]
	127.0.0.1 = EXAMPLE.TEST
	localhost = EXAMPLE.TEST
EOF
cat >"$dir/kdc.conf" <<EOF
[kdcdefaults]
	kdc_ports = $port
	kdc_tcp_ports = $port
[realms]
	EXAMPLE.TEST = {
		database_name = $dir/db/principal
		key_stash_file = $dir/db/stash
		acl_file = $dir/db/kadm5.acl
		max_life = 1h
		max_renewable_life = 0
		supported_enctypes = aes256-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:$dir/kdc.log
EOF
: >"$dir/db/kadm5.acl"
cat >"$dir/env.sh" <<EOF
export KRB5_CONFIG=$dir/krb5.conf
export KRB5_KDC_PROFILE=$dir/kdc.conf
export KRB5RCACHEDIR=$dir/rcache
EOF
. "$dir/env.sh"
kdb5_util create -s -r EXAMPLE.TEST -P master-pw >/dev/null 2>&1
# One kadmin.local for every principal: each start opens the database.
kadmin.local >/dev/null 2>&1 <<EOF
addprinc -pw alice-pw alice
addprinc -pw bob-pw bob
addprinc -pw carol-pw carol
addprinc -randkey rcmd/127.0.0.1
addprinc -randkey rcmd/localhost
ktadd -k $dir/rcmd.keytab rcmd/127.0.0.1
ktadd -k $dir/rcmd.keytab rcmd/localhost
addprinc -randkey rcmd/stale.test
EOF
# rcmd/stale.test: a service the KDC issues tickets for but whose key is
# not in the daemon's keytab (the server side's "unknown principal").
klist -k "$dir/rcmd.keytab" 2>/dev/null | grep -q rcmd/localhost ||
    { echo "kadmin.local did not make the keytab" >&2; exit 1; }
pick_port "$dir"
