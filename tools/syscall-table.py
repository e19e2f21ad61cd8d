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
            "Every program also gets a vDSO (`AT_SYSINFO_EHDR`; kernel/vdso) whose `__vdso_clock_gettime`, "
            "`__vdso_gettimeofday`, `__vdso_time`, `__vdso_clock_getres` and `__vdso_getcpu` (version "
            "LINUX_2.6, as on Linux) glibc and musl call instead of these system calls: the clocks are "
            "read from the TSC and the kernel's vvar page in user mode, with the kernel's own arithmetic, "
            "so such calls never enter the kernel and do not show in `utx-run --trace`. What the vDSO does "
            "not serve (CPU-time clocks, invalid clock ids) it passes to the system call, errors included.",
            "",
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
