#!/usr/bin/env python3
"""Run a program with a terminal on fds 0-2, as from an interactive shell.

    ptyexec.py OUT -- PROG ARGS...

Opens a pseudo-terminal, forks a drainer (detached, ends when the last
holder of the terminal closes it) that copies the terminal's output to
OUT, puts the terminal on 0, 1 and 2 (read-write, as a shell does) and
execs PROG in this process, so PROG keeps this pid (tests/holdings.bats
starts the daemon through it).
"""
import os
import sys


def main():
    out = sys.argv[1]
    assert sys.argv[2] == "--"
    argv = sys.argv[3:]
    master, slave = os.openpty()
    if os.fork() == 0:
        # Detach twice so the daemon never sees this process as its child.
        if os.fork() != 0:
            os._exit(0)
        os.close(slave)
        with open(out, "ab", 0) as f:
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                if not data:
                    break
                f.write(data)
        os._exit(0)
    os.wait()
    os.close(master)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
