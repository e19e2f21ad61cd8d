#!/usr/bin/python3
"""Checks the built vDSO before it is embedded in the kernel: what the kernel maps and what
glibc's and musl's vDSO lookups rely on. Usage: check_image.py READELF VDSO.so

- an x86-64 ELF shared object with one PT_LOAD, read and execute, from offset 0 at address
  0 and no larger in memory than in the file (the file is the memory image), and a PT_DYNAMIC
- no relocations at all (the image is mapped as it is, read-only) and no DT_NEEDED/DT_TEXTREL
- DT_HASH (musl before 1.2.5 needs it), DT_GNU_HASH, DT_SYMTAB, DT_STRTAB, DT_VERSYM, DT_VERDEF
- each exported function defined, of default visibility, in version LINUX_2.6
"""
import re
import subprocess
import sys

EXPORTS = ["clock_gettime", "gettimeofday", "time", "getcpu", "clock_getres"]


def readelf(tool, options, path):
    return subprocess.run([tool, "-W", *options, path], check=True, capture_output=True,
                          text=True).stdout


def main():
    tool, path = sys.argv[1], sys.argv[2]
    problems = []
    header = readelf(tool, ["-h"], path)
    if not re.search(r"Type:\s+DYN", header) or "X86-64" not in header:
        problems.append("not an x86-64 ELF shared object (ET_DYN)")

    segments = [line.split() for line in readelf(tool, ["-l"], path).splitlines()
                if re.match(r"\s+[A-Z_]+\s+0x", line)]
    loads = [s for s in segments if s[0] == "LOAD"]
    if len(loads) != 1:
        problems.append(f"{len(loads)} PT_LOAD segments, expected one")
    else:
        load = loads[0]
        offset, vaddr, filesz, memsz = load[1], load[2], load[4], load[5]
        flags = " ".join(load[6:-1])  # the columns between MemSiz and Align
        if int(offset, 16) != 0 or int(vaddr, 16) != 0:
            problems.append(f"PT_LOAD at offset {offset}, address {vaddr}: expected 0 and 0")
        if int(memsz, 16) > int(filesz, 16):
            problems.append("PT_LOAD is larger in memory than in the file (.bss)")
        if flags != "R E":
            problems.append(f"PT_LOAD flags {flags}: expected R E")
    if not any(s[0] == "DYNAMIC" for s in segments):
        problems.append("no PT_DYNAMIC")
    for bad in ("INTERP", "TLS", "GNU_RELRO"):
        if any(s[0] == bad for s in segments):
            problems.append(f"unexpected PT_{bad}")

    relocations = readelf(tool, ["-r"], path)
    if "There are no relocations in this file." not in relocations:
        problems.append("the image has relocations:\n" + relocations)

    dynamic = readelf(tool, ["-d"], path)
    tags = set(re.findall(r"^\s*0x[0-9a-f]+\s+\((\w+)\)", dynamic, re.M))
    for tag in ("HASH", "GNU_HASH", "SYMTAB", "STRTAB", "VERSYM", "VERDEF", "SONAME"):
        if tag not in tags:
            problems.append(f"no DT_{tag}")
    for tag in ("NEEDED", "TEXTREL", "RELA", "REL", "JMPREL"):
        if tag in tags:
            problems.append(f"unexpected DT_{tag}")

    symbols = readelf(tool, ["--dyn-syms"], path)
    for base in EXPORTS:
        for name in (base, "__vdso_" + base):
            if not re.search(rf"\sFUNC\s+(GLOBAL|WEAK)\s+DEFAULT\s+\d+\s+{name}@@?LINUX_2\.6$",
                             symbols, re.M):
                problems.append(f"{name}@LINUX_2.6 is not exported")

    if problems:
        sys.exit(f"{path}: not a usable vDSO:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
