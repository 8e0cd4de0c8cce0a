#!/usr/bin/env python3
"""Count the occurrences of bytes in a process's readable memory.

    memscan.py PID TEXT        TEXT as UTF-8
    memscan.py PID --hex HEX   raw bytes

Reads /proc/PID/maps and /proc/PID/mem (root: CAP_SYS_PTRACE reads a
non-dumpable process too); prints the count.  Used by tests/holdings.bats
to show what a process holds after it is sandboxed.
"""
import sys


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
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            count += data.count(needle)
    print(count)


if __name__ == "__main__":
    main()
