#!/usr/bin/env python3
"""A load balancer's side of the PROXY protocol, for tests/proxyproto.bats.

proxysend.py --to HOST:PORT [--src ADDR] --header KIND [--claim HOST:PORT]
             [--dport PORT]

Connects to the SOCKS server (from --src), sends the PROXY header KIND
naming the client --claim, then (for a header the server should accept)
a SOCKS5 no-auth CONNECT to 127.0.0.1:--dport, an echo server, and one
line through it.  Prints key=value lines:
  reply=N       the SOCKS5 reply code
  echo=TEXT     what came back through the relay
  closed=1      the server closed the connection before answering
KIND: v1, v2, v2local, v1unknown, none (SOCKS bytes at once), badsig
(one signature byte wrong), truncated (20 bytes of a v2 header, then
end of file), longlen (a v2 length 52 bytes beyond what is sent, then
silence until the server gives up), unkfam (v2 PROXY over UDP4).  With --hold S a session that got reply 0
is kept open S seconds after the echo.
"""
import argparse
import socket
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def v2(cmd, fam, claim, to, extra=b""):
    src = socket.inet_aton(claim[0])
    dst = socket.inet_aton(to[0])
    body = src + dst + struct.pack("!HH", claim[1], to[1]) + extra
    return SIG + bytes([0x20 | cmd, fam]) + struct.pack("!H", len(body)) + body


def header(kind, claim, to):
    if kind == "v1":
        return ("PROXY TCP4 %s %s %d %d\r\n" % (claim[0], to[0], claim[1],
                to[1])).encode()
    if kind == "v1unknown":
        return b"PROXY UNKNOWN\r\n"
    if kind == "v2":
        # With a TLV (PP2_TYPE_AUTHORITY), as HAProxy may send.
        return v2(1, 0x11, claim, to, b"\x02\x00\x07example")
    if kind == "v2local":
        return SIG + b"\x20\x00\x00\x00"
    if kind == "none":
        return b""
    if kind == "badsig":
        h = bytearray(v2(1, 0x11, claim, to))
        h[9] ^= 0x20
        return bytes(h)
    if kind == "truncated":
        return v2(1, 0x11, claim, to)[:20]
    if kind == "longlen":
        h = bytearray(v2(1, 0x11, claim, to))
        struct.pack_into("!H", h, 14, 12 + 52)
        return bytes(h)
    if kind == "unkfam":
        return v2(1, 0x12, claim, to)
    raise SystemExit("unknown header kind " + kind)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        try:
            c = s.recv(n - len(b))
        except ConnectionResetError:
            # Closed with our bytes unread: a close all the same.
            return None
        if not c:
            return None
        b += c
    return b


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--to", required=True)
    ap.add_argument("--src", default="127.0.0.1")
    ap.add_argument("--header", required=True)
    ap.add_argument("--claim", default="127.0.0.7:40007")
    ap.add_argument("--dport", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--hold", type=float, default=0)
    a = ap.parse_args()
    to = hostport(a.to)
    s = socket.socket()
    s.settimeout(a.timeout)
    s.bind((a.src, 0))
    s.connect(to)
    s.sendall(header(a.header, hostport(a.claim), to))
    if a.header == "truncated":
        s.shutdown(socket.SHUT_WR)
    if a.header in ("truncated", "longlen", "badsig", "unkfam",
                    "v2local", "v1unknown"):
        # Nothing more to say: the server must close on its own.
        print("closed=1" if s.recv(100) == b"" else "closed=0")
        return 0
    s.sendall(b"\x05\x01\x00")
    m = recv_exact(s, 2)
    if m is None:
        print("closed=1")
        return 0
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") +
              struct.pack("!H", a.dport))
    r = recv_exact(s, 10)
    if r is None:
        print("closed=1")
        return 0
    print("reply=%d" % r[1])
    if r[1] == 0:
        s.sendall(b"through-the-balancer\n")
        print("echo=" + recv_exact(s, 21).decode().strip(), flush=True)
        if a.hold > 0:
            time.sleep(a.hold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
