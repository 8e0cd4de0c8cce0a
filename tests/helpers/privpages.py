#!/usr/bin/env python3
"""Count the pages a process holds of its own, by where they are.

    privpages.py PID

A page is the process's own when /proc/PID/pagemap says it is present and
mapped exclusively (bit 56): a page a forked child has written, and so
copied, or one it faulted in fresh.  Prints one "KIND COUNT" line per kind:

    stack   the main stack
    exe     the program's own data and bss
    heap    the brk heap (in a static program such as socks5d-session,
            also its thread control block and static TLS)
    ldso    the dynamic loader's data
    libc    libc's data and the anonymous bss mapped right after it
    anon    every other anonymous mapping (in a dynamic program, the
            thread control block and static TLS among them)
    other   anything else

Needs root (pagemap's flags of another process).  Used by
tests/forker.bats to show which pages a held worker makes its own.
"""
import os
import struct
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")
PRESENT = 1 << 63
EXCLUSIVE = 1 << 56


def kind_of(name, prev_file, exe):
    if name == "[stack]":
        return "stack"
    if name == "[heap]":
        return "heap"
    # An anonymous mapping right after a file's mappings is that file's
    # bss (the loader maps it so).
    path = name if name.startswith("/") else prev_file
    if name == "" and prev_file is None:
        return "anon"
    base = os.path.basename(path or "")
    if path == exe:
        return "exe"
    if base.startswith("ld-linux"):
        return "ldso"
    if base.startswith("libc.so"):
        return "libc"
    if name == "":
        return "anon"
    return "other"


def main():
    pid = int(sys.argv[1])
    exe = os.readlink(f"/proc/{pid}/exe")
    counts = {k: 0 for k in
              ("stack", "exe", "heap", "ldso", "libc", "anon", "other")}
    prev_file, prev_hi = None, None
    with open(f"/proc/{pid}/maps") as maps, \
            open(f"/proc/{pid}/pagemap", "rb", 0) as pagemap:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            name = fields[5] if len(fields) > 5 else ""
            # bss follows its file's last mapping with no gap.
            owner = prev_file if name == "" and lo == prev_hi else None
            if name.startswith("/"):
                prev_file = name
            elif name != "":
                prev_file = None
            prev_hi = hi
            if "w" not in fields[1] or name == "[vsyscall]":
                continue
            kind = kind_of(name, owner, exe)
            pagemap.seek(lo // PAGE * 8)
            data = pagemap.read((hi - lo) // PAGE * 8)
            for (entry,) in struct.iter_unpack("Q", data):
                if entry & PRESENT and entry & EXCLUSIVE:
                    counts[kind] += 1
    for kind, n in counts.items():
        print(kind, n)


if __name__ == "__main__":
    main()
