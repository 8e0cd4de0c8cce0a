#!/usr/bin/env python3
"""SOCKS5 UDP ASSOCIATE client for the socks5d bats tests.

    udpclient.py -p PROXY --echo-port P [--echo-bind ADDR] [--src ADDR]
                 [--stranger ADDR] [--name HOST | --dest ADDR] [--count N]
                 [--after-close]

Runs its own UDP echo server on 127.0.0.1:P and [::1]:P (it answers
"echo:" + data and records the source address it saw), asks the proxy for
an association,
sends N datagrams through it and prints: reply=, bnd=, then per datagram
got=DATA from=HEADER-SOURCE seen=ECHO-SAW-SOURCE, or got=none.  With
--stranger, a datagram to BND from that address must not be relayed
(stranger=ignored|relayed).  With --after-close, the TCP connection is
closed first, so the datagrams that follow must get no answer (got=none).
With --stranger-first, the request names port 0 (the client does not know
its port yet) and the stranger sends before the client does: it must not
become the association's client (stranger=ignored).
--dest puts that IPv4 or IPv6 literal in the datagram header instead of
127.0.0.1.  The last line, echo-seen=N, counts the datagrams the echo
servers received.
Everything is bounded by short timeouts.
"""
import argparse
import ipaddress
import socket
import struct
import sys
import threading
import time


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError("eof")
        buf += b
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--proxy", required=True)
    ap.add_argument("--echo-port", type=int, required=True)
    ap.add_argument("--src", default="127.0.0.1")
    ap.add_argument("--stranger")
    ap.add_argument("--name")
    ap.add_argument("--dest")
    ap.add_argument("--count", type=int, default=2)
    ap.add_argument("--flood", type=int, default=0,
                    help="send this many datagrams without waiting for "
                         "answers, wait a second, close")
    ap.add_argument("--after-close", action="store_true")
    ap.add_argument("--stranger-first")
    a = ap.parse_args()

    seen = []
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", a.echo_port))
    echo.settimeout(5)
    echos = [echo]
    try:
        echo6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        echo6.bind(("::1", a.echo_port))
        echo6.settimeout(5)
        echos.append(echo6)
    except OSError:
        pass

    def serve(sock):
        while True:
            try:
                data, src = sock.recvfrom(65535)
            except (socket.timeout, OSError):
                return
            seen.append("%s:%d" % src[:2])
            sock.sendto(b"echo:" + data, src)

    for e in echos:
        threading.Thread(target=serve, args=(e,), daemon=True).start()

    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((a.src, 0))
    u.settimeout(1.5)
    host, port = a.proxy.rsplit(":", 1)
    t = socket.socket()
    t.settimeout(5)
    t.bind((a.src, 0))
    t.connect((host, int(port)))
    t.sendall(b"\x05\x01\x00")
    if recv_exact(t, 2) != b"\x05\x00":
        print("error=method")
        return 1
    t.sendall(b"\x05\x03\x00\x01" + socket.inet_aton(a.src) +
              struct.pack("!H", 0 if a.stranger_first else u.getsockname()[1]))
    h = recv_exact(t, 4)
    rep = h[1]
    bhost = socket.inet_ntoa(recv_exact(t, 4)) if h[3] == 1 else "?"
    bport = struct.unpack("!H", recv_exact(t, 2))[0]
    print("reply=%d" % rep)
    print("bnd=%s:%d" % (bhost, bport))
    if rep != 0:
        return 0
    if a.name:
        n = a.name.encode()
        hdr = b"\x00\x00\x00\x03" + bytes([len(n)]) + n
    elif a.dest and ipaddress.ip_address(a.dest).version == 6:
        hdr = b"\x00\x00\x00\x04" + socket.inet_pton(socket.AF_INET6, a.dest)
    else:
        hdr = b"\x00\x00\x00\x01" + socket.inet_aton(a.dest or "127.0.0.1")
    hdr += struct.pack("!H", a.echo_port)
    if a.flood:
        for i in range(a.flood):
            u.sendto(hdr + b"flood-%d" % i, (bhost, bport))
        time.sleep(1)
        t.close()
        print("flooded=%d" % a.flood)
        return 0
    if a.after_close:
        t.close()
    if a.stranger_first:
        s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s1.bind((a.stranger_first, 0))
        s1.settimeout(1.5)
        s1.sendto(hdr + b"stranger", (bhost, bport))
        try:
            s1.recvfrom(65535)
            print("stranger=relayed")
        except socket.timeout:
            print("stranger=%s" % ("relayed" if seen else "ignored"))
    for i in range(a.count):
        u.sendto(hdr + b"dgram-%d" % i, (bhost, bport))
        try:
            r, _ = u.recvfrom(65535)
        except (socket.timeout, ConnectionRefusedError):
            print("got=none")
            continue
        if r[3] != 1:
            print("got=bad-header")
            continue
        src = "%s:%d" % (socket.inet_ntoa(r[4:8]), struct.unpack("!H", r[8:10])[0])
        print("got=%s from=%s seen=%s" % (r[10:].decode(), src, seen[-1] if seen else "?"))
    if a.stranger:
        s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s2.bind((a.stranger, 0))
        s2.settimeout(1.5)
        before = len(seen)
        s2.sendto(hdr + b"stranger", (bhost, bport))
        try:
            s2.recvfrom(65535)
            print("stranger=relayed")
        except socket.timeout:
            print("stranger=%s" % ("ignored" if len(seen) == before else "relayed"))
    if not a.after_close:
        t.close()
    print("echo-seen=%d" % len(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
