#!/usr/bin/env python3
"""Destination servers for the socks5d bats tests.

    servers.py MODE --bind ADDR --port-file FILE [--out FILE] [--dir DIR]

Binds ADDR on an ephemeral port, writes the port to --port-file (atomically,
once listening) and serves until killed or --lifetime seconds have passed.
Every connection is handled in its own thread with a socket timeout, so a
stuck peer never blocks the server.

Modes:
  http        HTTP/1.0 file server for --dir (python's http.server)
  sinkhash    read each connection to EOF, append "SHA256 LEN PEER" to --out
  echohash    read each connection to EOF, send back "SHA256 LEN\\n", close
  echo        echo every byte back; at EOF shut down the write side too
  peer        send "peer=IP:PORT\\n" (the address the connection came from),
              then read to EOF and close
  bannersink  send "banner\\n" and shut down the write side at once, then read
              to EOF and append "SHA256 LEN PEER" to --out
"""
import argparse
import hashlib
import http.server
import os
import socket
import socketserver
import sys
import threading
import time

CONN_TIMEOUT = 120


def fmt_addr(addr):
    host, port = addr[0], addr[1]
    if ":" in host:
        return "[%s]:%d" % (host, port)
    return "%s:%d" % (host, port)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


_out_lock = threading.Lock()


def append_line(path, line):
    with _out_lock:
        with open(path, "a") as f:
            f.write(line + "\n")
            f.flush()


def read_to_eof(conn):
    h = hashlib.sha256()
    n = 0
    while True:
        b = conn.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    return h.hexdigest(), n


def handle(mode, conn, peer, args):
    conn.settimeout(CONN_TIMEOUT)
    try:
        if mode == "sinkhash":
            digest, n = read_to_eof(conn)
            append_line(args.out, "%s %d %s" % (digest, n, fmt_addr(peer)))
        elif mode == "echohash":
            digest, n = read_to_eof(conn)
            conn.sendall(("%s %d\n" % (digest, n)).encode())
        elif mode == "echo":
            while True:
                b = conn.recv(1 << 16)
                if not b:
                    break
                conn.sendall(b)
            conn.shutdown(socket.SHUT_WR)
            # wait for the peer to close so nothing is reset
            while conn.recv(1 << 16):
                pass
        elif mode == "peer":
            conn.sendall(("peer=%s\n" % fmt_addr(peer)).encode())
            read_to_eof(conn)
        elif mode == "bannersink":
            conn.sendall(b"banner\n")
            conn.shutdown(socket.SHUT_WR)
            digest, n = read_to_eof(conn)
            append_line(args.out, "%s %d %s" % (digest, n, fmt_addr(peer)))
    except OSError as e:
        if args.out:
            append_line(args.out, "error %s %s" % (e, fmt_addr(peer)))
    finally:
        try:
            conn.close()
        except OSError:
            pass


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    timeout = CONN_TIMEOUT

    def log_message(self, fmt, *a):
        pass


def make_http(args, family):
    class Server(http.server.ThreadingHTTPServer):
        address_family = family
        daemon_threads = True
        request_queue_size = 128

    directory = args.dir

    class Handler(QuietHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=directory, **kw)

    return Server((args.bind, 0), Handler)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["http", "sinkhash", "echohash", "echo",
                                     "peer", "bannersink"])
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out")
    ap.add_argument("--dir")
    ap.add_argument("--lifetime", type=float, default=900)
    args = ap.parse_args()
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET

    # Never outlive the test run, whatever happens to the test harness.
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()

    if args.mode == "http":
        srv = make_http(args, family)
        write_atomic(args.port_file, "%d\n" % srv.server_address[1])
        srv.serve_forever()
        return

    if args.mode in ("sinkhash", "bannersink") and not args.out:
        ap.error("--out is required for " + args.mode)
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, 0))
    ls.listen(256)
    write_atomic(args.port_file, "%d\n" % ls.getsockname()[1])
    while True:
        conn, peer = ls.accept()
        t = threading.Thread(target=handle, args=(args.mode, conn, peer, args),
                             daemon=True)
        t.start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
