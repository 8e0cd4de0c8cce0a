#!/usr/bin/env python3
"""Many SOCKS sessions against an echohash server (servers.py echohash).

    multiclient.py -p PROXY -d DEST -P PORT -n N [--threads T] [--together]
                   [--size BYTES] [-v 5|4|4a] [--ports-file FILE]

Each session: connect to the proxy, negotiate CONNECT to DEST:PORT, send
--size random bytes, shut down the write side, read "SHA256 LEN" back and
compare it with what was sent.  With --together all N sessions are first
negotiated and held open at the same time (a barrier), and only then send
their data: N sessions really are open at once.  Without it, --threads
workers run the N sessions as fast as they can.

Prints "ok=K fail=F" (and one "fail: ..." line per failure), writes each
session's local port to --ports-file, and exits 0 only if all N succeeded.
"""
import argparse
import hashlib
import os
import socket
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import socksclient  # noqa: E402


def one(a, idx, barrier, results, ports):
    s = None
    try:
        s = socksclient.connect_proxy(a.proxy, a.timeout)
        ports[idx] = s.getsockname()[1]
        rep, _, _, method = socksclient.socks_handshake(
            s, a.version, a.dest, a.dport)
        ok = 0 if a.version == "5" else 90
        if rep != ok:
            raise socksclient.ProtoError("reply %s method %s" % (rep, method))
        if barrier is not None:
            barrier.wait(timeout=a.timeout * 3)
        data = os.urandom(a.size)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
            if len(got) > 4096:
                break
        want = "%s %d\n" % (hashlib.sha256(data).hexdigest(), len(data))
        if got.decode("latin1") != want:
            raise socksclient.ProtoError("answer %r, want %r" % (got, want))
        results[idx] = "ok"
    except threading.BrokenBarrierError:
        results[idx] = "barrier broken (not all sessions got a reply)"
    except (socksclient.ProtoError, OSError) as e:
        results[idx] = "%s: %s" % (type(e).__name__, e)
        if barrier is not None:
            barrier.abort()
    finally:
        if s is not None:
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--proxy", required=True)
    ap.add_argument("-d", "--dest", default="127.0.0.1")
    ap.add_argument("-P", "--dport", type=int, required=True)
    ap.add_argument("-v", "--version", default="5", choices=["5", "4", "4a"])
    ap.add_argument("-n", type=int, required=True)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--together", action="store_true")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--ports-file")
    a = ap.parse_args()

    results = [None] * a.n
    ports = [None] * a.n
    if a.together:
        barrier = threading.Barrier(a.n)
        threads = [threading.Thread(target=one,
                                    args=(a, i, barrier, results, ports))
                   for i in range(a.n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(a.timeout * 6)
    else:
        lock = threading.Lock()
        nxt = [0]

        def worker():
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= a.n:
                    return
                one(a, i, None, results, ports)

        threads = [threading.Thread(target=worker) for _ in range(a.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(a.timeout * (a.n // a.threads + 2))

    if a.ports_file:
        with open(a.ports_file, "w") as f:
            for p in ports:
                if p:
                    f.write("%d\n" % p)
    ok = sum(1 for r in results if r == "ok")
    for i, r in enumerate(results):
        if r != "ok":
            print("fail: session %d: %s" % (i, r or "did not finish"))
    print("ok=%d fail=%d" % (ok, a.n - ok), flush=True)
    # threads that did not finish are stuck in a bounded socket call; do not
    # wait for them
    os._exit(0 if ok == a.n else 1)


if __name__ == "__main__":
    main()
