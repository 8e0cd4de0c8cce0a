#!/usr/bin/env python3
"""Start socks5d the way inetd or systemd would.

    launch.py inetd   --port-file F --status-file S -- DAEMON ARGS...
        Listens on 127.0.0.1 (ephemeral port, written to F), accepts ONE
        connection, runs DAEMON ARGS... with that connection as stdin and
        stdout (like inetd "nowait"), waits for it (bounded by --timeout) and
        writes its exit status to S.
    launch.py systemd --port-file F -- DAEMON ARGS...
        Listens on 127.0.0.1 (ephemeral port, written to F), puts the socket
        on fd 3, sets LISTEN_PID to its own pid and LISTEN_FDS=1 and execs
        DAEMON ARGS... (socket activation; the pid stays the same).
"""
import argparse
import os
import socket
import subprocess
import sys


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["inetd", "systemd"])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--status-file")
    ap.add_argument("--timeout", type=float, default=60)
    argv = sys.argv[1:]
    if "--" not in argv:
        ap.error("no daemon command after --")
    i = argv.index("--")
    a = ap.parse_args(argv[:i])
    cmd = argv[i + 1:]
    if not cmd:
        ap.error("no daemon command after --")

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]

    if a.mode == "systemd":
        if ls.fileno() != 3:
            os.dup2(ls.fileno(), 3)
            ls.close()
        os.set_inheritable(3, True)
        env = dict(os.environ, LISTEN_PID=str(os.getpid()), LISTEN_FDS="1")
        write_atomic(a.port_file, "%d\n" % port)
        os.execvpe(cmd[0], cmd, env)

    write_atomic(a.port_file, "%d\n" % port)
    ls.settimeout(a.timeout)
    conn, _ = ls.accept()
    ls.close()
    try:
        p = subprocess.Popen(cmd, stdin=conn.fileno(), stdout=conn.fileno())
        conn.close()
        try:
            rc = p.wait(a.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = "timeout"
    except OSError as e:
        rc = "error: %s" % e
    if a.status_file:
        write_atomic(a.status_file, "%s\n" % rc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
