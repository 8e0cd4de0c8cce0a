#!/usr/bin/env python3
"""TCP urgent data through a SOCKS5 relay, for the socks5d bats tests.

    urgent.py -p PROXY --dir c2d|d2c [--hold S] [--ready FILE] [--go FILE]

Runs its own destination on 127.0.0.1, connects to it through the proxy
(SOCKS5, no authentication), then the sending side (the client for c2d,
the destination for d2c) sends "before", one byte "X" with MSG_OOB, and
"after", each in its own segment.  The receiving side reads ordinary data
until it has 12 bytes or 5 s have passed, and prints

    local=ADDR     the client's own address (the worker's title names it)
    reply=N        the SOCKS5 reply
    got=TEXT       what arrived in band, in order (the relay passes the
                   urgent byte on inline: "beforeXafter")

With --ready, FILE is created once the exchange is over and the session is
then held open for --hold seconds (or, with --go, until the test creates
that FILE, at most --hold seconds), so that the test can look at the worker
while nothing is moving.  Everything is bounded by timeouts.
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

WANT = b"beforeXafter"


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError("eof")
        buf += b
    return buf


def send_with_urgent(s):
    s.sendall(b"before")
    time.sleep(0.2)
    s.send(b"X", socket.MSG_OOB)
    time.sleep(0.2)
    s.sendall(b"after")


def read_inband(s, deadline):
    got = b""
    while len(got) < len(WANT):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(len(WANT) - len(got))
        except socket.timeout:
            break
        if not b:
            break
        got += b
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--proxy", required=True)
    ap.add_argument("--dir", choices=["c2d", "d2c"], required=True)
    ap.add_argument("--hold", type=float, default=0)
    ap.add_argument("--ready")
    ap.add_argument("--go")
    a = ap.parse_args()

    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(10)
    accepted = []
    t = threading.Thread(target=lambda: accepted.append(lst.accept()[0]),
                         daemon=True)
    t.start()

    host, port = a.proxy.rsplit(":", 1)
    c = socket.create_connection((host, int(port)), timeout=10)
    print("local=%s:%d" % c.getsockname(), flush=True)
    c.sendall(b"\x05\x01\x00")
    if recv_exact(c, 2) != b"\x05\x00":
        print("error=method")
        return 1
    c.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") +
              struct.pack("!H", lst.getsockname()[1]))
    rep = recv_exact(c, 10)
    print("reply=%d" % rep[1], flush=True)
    if rep[1] != 0:
        return 0
    t.join(10)
    if not accepted:
        print("error=no-connection-at-destination")
        return 1
    d = accepted[0]
    sender, receiver = (c, d) if a.dir == "c2d" else (d, c)
    send_with_urgent(sender)
    got = read_inband(receiver, time.monotonic() + 5)
    print("got=%s" % got.decode("latin1"), flush=True)
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("done\n")
        os.rename(a.ready + ".tmp", a.ready)
        end = time.monotonic() + a.hold
        while time.monotonic() < end:
            if a.go and os.path.exists(a.go):
                break
            time.sleep(0.05 if a.go else max(0.0, end - time.monotonic()))
    c.close()
    d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
