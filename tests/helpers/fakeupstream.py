#!/usr/bin/env python3
"""A scripted upstream SOCKS server for the chaining tests (tests/chain.bats).

    fakeupstream.py MODE --port-file F [--out LOG] [--reply HEX] [--bind A]

Appends one line "conn PEER" to --out per accepted connection (so a test
can count how often an upstream was tried), then by MODE:

    closer      close at once (fails the greeting)
    blackhole   never answer; hold the connection until the peer closes
    reply       answer the greeting with method 00, read the request, log
                "request HEX", send the --reply bytes and close
"""
import argparse
import os
import socket
import sys
import threading

CONN_TIMEOUT = 30


def log(path, line):
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            raise EOFError
        b += x
    return b


def read_request(c):
    h = recv_exact(c, 4)
    if h[3] == 1:
        rest = recv_exact(c, 4 + 2)
    elif h[3] == 4:
        rest = recv_exact(c, 16 + 2)
    else:
        n = recv_exact(c, 1)
        rest = n + recv_exact(c, n[0] + 2)
    return h + rest


def handle(mode, c, peer, a):
    c.settimeout(CONN_TIMEOUT)
    try:
        log(a.out, "conn %s:%d" % peer[:2])
        if mode == "closer":
            return
        if mode == "blackhole":
            while c.recv(4096):
                pass
            return
        g = recv_exact(c, 2)
        recv_exact(c, g[1])
        c.sendall(b"\x05\x00")
        log(a.out, "request " + read_request(c).hex())
        c.sendall(bytes.fromhex(a.reply))
        c.shutdown(socket.SHUT_WR)
        while c.recv(4096):
            pass
    except (OSError, EOFError):
        pass
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["closer", "blackhole", "reply"])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out")
    ap.add_argument("--reply", default="05000001000000000000")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, 0))
    ls.listen(64)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, a.port_file)
    while True:
        c, peer = ls.accept()
        threading.Thread(target=handle, args=(a.mode, c, peer, a),
                         daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
