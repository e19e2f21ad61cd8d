#!/usr/bin/python3
"""Bootstrap syscall-shim/syscalls.def from the kernel UAPI headers.

Run once to create the table; afterwards syscalls.def is edited by hand (status, handler,
note). With --check it only verifies that the numbers in syscalls.def still match the
headers installed on this machine (linux-libc-dev).
"""
import re
import subprocess
import sys

X86_HEADER = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
RISCV_PROLOGUE = """#define __BITS_PER_LONG 64
#define __ARCH_WANT_NEW_STAT
#define __ARCH_WANT_SET_GET_RLIMIT
#define __ARCH_WANT_SYS_CLONE3
#include <asm-generic/unistd.h>
"""
RISCV_EXTRA = {"riscv_hwprobe": 258, "riscv_flush_icache": 259}


def x86_numbers():
    nums = {}
    for line in open(X86_HEADER):
        m = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
        if m:
            nums[m.group(1)] = int(m.group(2))
    return nums


def riscv_numbers():
    out = subprocess.run(["gcc", "-E", "-dM", "-x", "c", "-"], input=RISCV_PROLOGUE,
                         capture_output=True, text=True, check=True).stdout
    raw = {}
    for line in out.splitlines():
        m = re.match(r"#define (__NR\w+)\s+(.+)", line)
        if m:
            raw[m.group(1)] = m.group(2).strip()

    def value(expr, depth=0):
        expr = expr.strip("() ")
        if re.fullmatch(r"\d+", expr):
            return int(expr)
        m = re.fullmatch(r"(__NR\w+)\s*\+\s*(\d+)", expr)
        if m and depth < 4:
            return value(raw[m.group(1)], depth + 1) + int(m.group(2))
        m = re.fullmatch(r"(__NR\w+)", expr)
        if m and depth < 4 and m.group(1) in raw:
            return value(raw[m.group(1)], depth + 1)
        return None

    nums = {}
    for key, expr in raw.items():
        if not key.startswith("__NR_"):
            continue
        name = key[len("__NR_"):]
        if name in ("syscalls", "arch_specific_syscall"):
            continue
        v = value(expr)
        if v is not None:
            nums[name] = v
    nums.update(RISCV_EXTRA)
    return nums


def main():
    x86, rv = x86_numbers(), riscv_numbers()
    if "--check" in sys.argv:
        bad = 0
        for line in open(sys.argv[2]):
            m = re.match(r"SYSCALL\(\s*(-?\d+),\s*(-?\d+),\s*(\w+),", line)
            if not m:
                continue
            xn, rn, name = int(m.group(1)), int(m.group(2)), m.group(3)
            if x86.get(name, -1) != xn or rv.get(name, -1) != rn:
                print(f"{name}: table says x86_64={xn} riscv64={rn}, headers say "
                      f"x86_64={x86.get(name, -1)} riscv64={rv.get(name, -1)}")
                bad += 1
        sys.exit(1 if bad else 0)
    names = sorted(set(x86) | set(rv), key=lambda n: (x86.get(n, 10000 + rv.get(n, 0)), n))
    for n in names:
        print(f"SYSCALL({x86.get(n, -1):4d}, {rv.get(n, -1):4d}, {n}, none, missing, \"\")")


if __name__ == "__main__":
    main()
