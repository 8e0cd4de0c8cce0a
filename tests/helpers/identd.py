#!/usr/bin/env python3
"""A test identd (RFC 1413) for the socks5d bats tests.

    identd.py --bind ADDR --mode MODE [--user NAME] --count-file F --ready F

Listens on ADDR port 113, answers every query per MODE, appends the query
line to --count-file (so a test can count queries), and creates --ready
once listening.  Serves until killed, at most --lifetime seconds.

Modes:
  match       "P1 , P2 : USERID : UNIX : NAME" for the ports queried
  error       "P1 , P2 : ERROR : NO-USER"
  garbage     a line that is not an RFC 1413 reply
  otherports  a USERID reply for the queried ports plus one
  long        a 2000-byte line with a USERID prefix
  silent      read the query, answer nothing, hold the connection
"""
import argparse
import os
import re
import socket
import sys
import threading
import time


def serve(conn, a):
    conn.settimeout(20)
    data = b""
    try:
        while b"\n" not in data and len(data) < 1024:
            b = conn.recv(1024)
            if not b:
                return
            data += b
        q = data.split(b"\n")[0].decode("ascii", "replace").strip()
        with open(a.count_file, "a") as f:
            f.write(q + "\n")
        m = re.match(r"^\s*(\d+)\s*,\s*(\d+)\s*$", q)
        p1, p2 = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        if a.mode == "match":
            out = "%d , %d : USERID : UNIX : %s\r\n" % (p1, p2, a.user)
        elif a.mode == "error":
            out = "%d , %d : ERROR : NO-USER\r\n" % (p1, p2)
        elif a.mode == "garbage":
            out = "HTTP/1.0 400 Bad Request\r\n"
        elif a.mode == "otherports":
            out = "%d , %d : USERID : UNIX : %s\r\n" % (p1 + 1, p2, a.user)
        elif a.mode == "long":
            out = "%d , %d : USERID : UNIX : %s" % (p1, p2, a.user)
            out += "x" * (2000 - len(out)) + "\r\n"
        else:
            time.sleep(15)
            return
        conn.sendall(out.encode())
    except OSError:
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--mode", required=True,
                    choices=["match", "error", "garbage", "otherports",
                             "long", "silent"])
    ap.add_argument("--user", default="test")
    ap.add_argument("--count-file", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--lifetime", type=float, default=300)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET6 if ":" in a.bind else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, 113))
    s.listen(16)
    open(a.count_file, "a").close()
    with open(a.ready + ".tmp", "w") as f:
        f.write("ok\n")
    os.rename(a.ready + ".tmp", a.ready)
    end = time.monotonic() + a.lifetime
    s.settimeout(1)
    while time.monotonic() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c, a), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
