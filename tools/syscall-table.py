#!/usr/bin/python3
"""Writes the syscall support table (Markdown) from syscall-shim/syscalls.def.

Usage: syscall-table.py DEF OUT. Run by the build (target syscall_docs), so docs/syscalls.md
never disagrees with the table the kernel and utx-analyze are built from.
"""
import re
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    rows, counts = [], {}
    for line in open(src):
        m = re.match(r'SYSCALL\(\s*(-?\d+),\s*(-?\d+),\s*(\w+),\s*(\w+),\s*(\w+),\s*"(.*)"\)', line)
        if not m:
            continue
        x86, rv, name, _handler, status, note = m.groups()
        counts[status] = counts.get(status, 0) + 1
        rows.append((name, x86, rv, status, note))
    text = ["# Linux system calls in utx", "",
            "Generated from `syscall-shim/syscalls.def` by `tools/syscall-table.py` at every build; "
            "do not edit.", "",
            " · ".join(f"{k}: {counts.get(k, 0)}" for k in ("implemented", "partial", "stub", "missing")),
            "", "| syscall | x86-64 | riscv64 | status | note |", "| --- | --- | --- | --- | --- |"]
    order = {"implemented": 0, "partial": 1, "stub": 2, "missing": 3}
    for name, x86, rv, status, note in sorted(rows, key=lambda r: (order[r[3]], r[0])):
        text.append(f"| {name} | {x86 if x86 != '-1' else ''} | {rv if rv != '-1' else ''} "
                    f"| {status} | {note} |")
    new = "\n".join(text) + "\n"
    try:
        old = open(out).read()
    except FileNotFoundError:
        old = None
    if old != new:
        open(out, "w").write(new)


if __name__ == "__main__":
    main()
