#!/usr/bin/env python3
"""Count the occurrences of bytes in a process's readable memory.

    memscan.py PID TEXT        TEXT as UTF-8
    memscan.py PID --hex HEX   raw bytes

Reads /proc/PID/maps and /proc/PID/mem (root: CAP_SYS_PTRACE reads a
non-dumpable process too); prints the count.  Used by tests/holdings.bats
to show what a process holds after it is sandboxed.
"""
import sys

CHUNK = 1 << 20


def main():
    pid = int(sys.argv[1])
    if sys.argv[2] == "--hex":
        needle = bytes.fromhex(sys.argv[3])
    else:
        needle = sys.argv[2].encode()
    count = 0
    with open(f"/proc/{pid}/maps") as maps, \
            open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1]:
                continue
            name = fields[5] if len(fields) > 5 else ""
            if name in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            # Read in chunks (overlapping by the needle's length), and skip
            # reservations no process fills (a sanitizer's shadow memory is
            # terabytes of mostly unbacked address space).
            if hi - lo > (1 << 32):
                continue
            pos, tail = lo, b""
            while pos < hi:
                try:
                    mem.seek(pos)
                    data = mem.read(min(CHUNK, hi - pos))
                except (OSError, ValueError, OverflowError):
                    break
                if not data:
                    break
                buf = tail + data
                count += buf.count(needle)
                # A match inside the overlap was counted with the last
                # chunk; keep less than a needle so none counts twice.
                tail = buf[-(len(needle) - 1):] if len(needle) > 1 else b""
                pos += len(data)
    print(count)


if __name__ == "__main__":
    main()
