#!/usr/bin/env python3
"""SOCKS5 username/password (RFC 1929) client for the socks5d bats tests.

    upclient.py -p 127.0.0.1:PORT [--src ADDR] [-d DEST -P PORT] USER PASS

Offers method 02 only, sends USER and PASS, and prints KEY=VALUE lines:
  method=02          the method the server chose (hex)
  status=N           the RFC 1929 status byte
  elapsed=S          seconds from sending the credentials to the status
  reply=N            with -P: the CONNECT reply code after status 0
  closed=eof|reset|timeout|data   after a failure status: what came next
  error=WHAT         the server closed or misbehaved before answering
With --hold S a session that got reply 0 is kept open S seconds.
"""
import argparse
import socket
import struct
import sys
import time


def out(k, v):
    print("%s=%s" % (k, v), flush=True)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--proxy", required=True)
    ap.add_argument("--src")
    ap.add_argument("-d", "--dest", default="127.0.0.1")
    ap.add_argument("-P", "--dport", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--hold", type=float, default=0)
    ap.add_argument("user")
    ap.add_argument("password")
    a = ap.parse_args()
    host, port = a.proxy.rsplit(":", 1)
    s = socket.socket()
    s.settimeout(a.timeout)
    if a.src:
        s.bind((a.src, 0))
    try:
        s.connect((host, int(port)))
        s.sendall(b"\x05\x01\x02")
        v, m = recv_exact(s, 2)
        out("method", "%02x" % m)
        if m != 2:
            return 0
        u, p = a.user.encode(), a.password.encode()
        t0 = time.monotonic()
        s.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        ver, status = recv_exact(s, 2)
        out("elapsed", "%.3f" % (time.monotonic() - t0))
        out("status", status)
        if status != 0:
            try:
                b = s.recv(1)
                out("closed", "eof" if not b else "data")
            except socket.timeout:
                out("closed", "timeout")
            except ConnectionResetError:
                out("closed", "reset")
            return 0
        if a.dport:
            ip = socket.inet_aton(a.dest)
            s.sendall(b"\x05\x01\x00\x01" + ip + struct.pack("!H", a.dport))
            r = recv_exact(s, 10)
            out("reply", r[1])
            if r[1] == 0 and a.hold > 0:
                time.sleep(a.hold)
    except (EOFError, ConnectionResetError):
        out("error", "closed")
        return 1
    except socket.timeout:
        out("error", "timeout")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
