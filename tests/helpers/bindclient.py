#!/usr/bin/env python3
"""SOCKS BIND client for the socks5d bats tests.

    bindclient.py -p PROXY [-v 5|4] [-d EXPECTED-PEER] [--peer-src ADDR]...

Sends a BIND request (DST = EXPECTED-PEER, port 0), prints the first reply
(reply1=, bnd1=), then connects to BND from each --peer-src address in turn
(a peer that the proxy should refuse first, then the expected one), writes
"from-peer" on the connection that is accepted, reads the second reply
(reply2=, bnd2=), checks both directions of the relay (relay=ok) and
prints what happened to the refused peers (stray=closed|open).  Every
step is bounded by --timeout.  With --ready FILE and --go FILE, FILE is
created once the first reply is in (local= names the client's own
address), and the peers connect only once the --go file exists.
"""
import os
import time
import argparse
import socket
import struct
import sys


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError("eof after %d of %d bytes" % (len(buf), n))
        buf += b
    return buf


def read_reply(s, version):
    if version == "4":
        r = recv_exact(s, 8)
        return r[1], "%s:%d" % (socket.inet_ntoa(r[4:8]), struct.unpack("!H", r[2:4])[0])
    h = recv_exact(s, 4)
    if h[3] == 1:
        host = socket.inet_ntoa(recv_exact(s, 4))
    elif h[3] == 4:
        host = "[%s]" % socket.inet_ntop(socket.AF_INET6, recv_exact(s, 16))
    else:
        raise ValueError("ATYP %d" % h[3])
    port = struct.unpack("!H", recv_exact(s, 2))[0]
    return h[1], "%s:%d" % (host, port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--proxy", required=True)
    ap.add_argument("-v", "--version", default="5", choices=["5", "4"])
    ap.add_argument("-d", "--dest", default="127.0.0.1")
    ap.add_argument("--peer-src", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--ready")
    ap.add_argument("--go")
    a = ap.parse_args()
    host, port = a.proxy.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=a.timeout)
    print("local=%s:%d" % s.getsockname()[:2])
    dst = socket.inet_aton(a.dest)
    try:
        if a.version == "5":
            s.sendall(b"\x05\x01\x00")
            if recv_exact(s, 2) != b"\x05\x00":
                print("error=method")
                return 1
            s.sendall(b"\x05\x02\x00\x01" + dst + b"\x00\x00")
        else:
            s.sendall(b"\x04\x02\x00\x00" + dst + b"bind\x00")
        rep, bnd = read_reply(s, a.version)
    except (EOFError, OSError) as e:
        print("error=%s" % e)
        return 1
    print("reply1=%d" % rep)
    print("bnd1=%s" % bnd)
    sys.stdout.flush()
    if rep not in (0, 90):
        return 0
    bhost, bport = bnd.rsplit(":", 1)
    if a.ready:
        sys.stdout.flush()
        with open(a.ready, "w") as f:
            f.write("ready\n")
    if a.go:
        end = time.monotonic() + a.timeout
        while not os.path.exists(a.go) and time.monotonic() < end:
            time.sleep(0.05)
    strays = []
    for src in a.peer_src[:-1]:
        p = socket.socket()
        p.settimeout(a.timeout)
        p.bind((src, 0))
        p.connect((bhost, int(bport)))
        strays.append(p)
    peer = socket.socket()
    peer.settimeout(a.timeout)
    peer.bind((a.peer_src[-1] if a.peer_src else "127.0.0.1", 0))
    try:
        peer.connect((bhost, int(bport)))
        peer.sendall(b"from-peer")
    except OSError as e:
        # A proxy that gave up on the BIND closes its listener: the peer
        # is reset.  The client is still owed its second reply.
        print("peer=%s" % e.__class__.__name__)
    try:
        rep2, bnd2 = read_reply(s, a.version)
    except (EOFError, OSError) as e:
        print("error=second reply: %s" % e)
        return 1
    print("reply2=%d" % rep2)
    print("bnd2=%s" % bnd2)
    sys.stdout.flush()
    if rep2 not in (0, 90):
        return 0
    ok = recv_exact(s, 9) == b"from-peer"
    s.sendall(b"from-client")
    ok = ok and recv_exact(peer, 11) == b"from-client"
    print("relay=%s" % ("ok" if ok else "mismatch"))
    for p in strays:
        try:
            p.settimeout(2)
            print("stray=%s" % ("closed" if p.recv(1) == b"" else "open"))
        except (ConnectionResetError, socket.timeout):
            print("stray=closed")
    print("peer-local=%s:%d" % peer.getsockname()[:2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
