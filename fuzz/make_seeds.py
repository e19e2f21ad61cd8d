#!/usr/bin/python3
"""Writes the committed seed corpora, fuzz/corpus/TARGET/, deterministically.

    /usr/bin/python3 fuzz/make_seeds.py

The ELF seeds are tiny programs assembled here (as, ld; riscv64-linux-gnu-as/ld when
installed): a static executable with syscall sites, a wrapper function, data and bss,
.eh_frame, the same stripped, a static-PIE, a riscv64 one, and a few broken files. The cpio
seeds are newc archives; the others are a few bytes that the targets' own decoders read.
fuzz/run.sh adds the normal build's test programs (patterns_x86_64, sites_x86_64) at run time.
"""

import random
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

X86_PROGRAM = r"""
    .globl _start
    .text
_start:
    .cfi_startproc
    mov $1, %eax
    mov $1, %edi
    lea msg(%rip), %rsi
    mov $6, %edx
    syscall
    mov $39, %edi
    call wrapper
    mov counter(%rip), %rax
    cmp $0, %rax
    jne 1f
    mov $231, %eax
    xor %edi, %edi
    syscall
1:  mov $60, %eax
    syscall
    .cfi_endproc
    .type wrapper, @function
wrapper:
    .cfi_startproc
    push %rbp
    mov %rdi, %rax
    mov %rsi, %rdi
    syscall
    pop %rbp
    ret
    .cfi_endproc
    .size wrapper, .-wrapper
    .section .rodata
msg: .ascii "hello\n"
    .data
counter: .quad 0
    .bss
buffer: .zero 4096
"""

RISCV_PROGRAM = r"""
    .globl _start
    .text
_start:
    li a7, 64
    li a0, 1
    la a1, msg
    li a2, 6
    ecall
    li a7, 93
    li a0, 0
    ecall
    .section .rodata
msg: .ascii "hello\n"
"""


def assemble(source, asm, ld, emulation, extra, out):
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = Path(tmp, "p.S"), Path(tmp, "p.o")
        src.write_text(source)
        subprocess.run([asm, *([] if emulation is None else ["--64"]), str(src), "-o", str(obj)], check=True)
        link = [ld, *([] if emulation is None else ["-m", emulation]), "-z", "noseparate-code",
                "-z", "norelro", "--build-id=none", *extra, str(obj), "-o", str(out)]
        subprocess.run(link, check=True)


def elf_seeds(directory):
    directory.mkdir(parents=True, exist_ok=True)
    static = directory / "x86_static"
    assemble(X86_PROGRAM, "as", "ld", "elf_x86_64", ["-static"], static)
    assemble(X86_PROGRAM, "as", "ld", "elf_x86_64", ["-static", "-s"], directory / "x86_stripped")
    assemble(X86_PROGRAM, "as", "ld", "elf_x86_64", ["-pie", "--no-dynamic-linker"], directory / "x86_pie")
    if shutil.which("riscv64-linux-gnu-as") and shutil.which("riscv64-linux-gnu-ld"):
        assemble(RISCV_PROGRAM, "riscv64-linux-gnu-as", "riscv64-linux-gnu-ld", None, ["-static"],
                 directory / "riscv_static")
    data = static.read_bytes()
    (directory / "truncated_header").write_bytes(data[:40])
    (directory / "truncated_phdrs").write_bytes(data[:80])
    (directory / "not_elf").write_bytes(b"#!/bin/sh\necho hi\n")
    interp = bytearray(data)
    struct.pack_into("<I", interp, 64, 3)  # the only program header becomes PT_INTERP
    (directory / "pt_interp").write_bytes(bytes(interp))
    # What the fuzzers found (binary-analyzer/tests/broken_input_test.cpp has each as a test):
    # a segment of any type, or an SHT_NOBITS section, far past the end of the file...
    note = bytearray(data)
    struct.pack_into("<IIQ", note, 64, 4, 4, 0x1B000224)  # PT_NOTE at offset 0x1b000224
    (directory / "note_past_end").write_bytes(bytes(note))
    shoff, = struct.unpack_from("<Q", data, 40)
    nobits = bytearray(data)
    struct.pack_into("<I", nobits, shoff + 64 + 4, 8)  # section 1 becomes SHT_NOBITS...
    struct.pack_into("<Q", nobits, shoff + 64 + 24, 0x290002B0)  # ...650 MB on
    (directory / "nobits_past_end").write_bytes(bytes(nobits))
    # ...and code loaded at address 0, so that constants near the top of the address space
    # wrap around.
    at_zero = bytearray(data)
    struct.pack_into("<Q", at_zero, 64 + 16, 0)
    (directory / "load_at_zero").write_bytes(bytes(at_zero))


def newc(entries):
    """entries: (name, mode, data, ino, nlink, rdev_major, rdev_minor)."""
    out = bytearray()

    def put(name, ino, mode, nlink, data, major=0, minor=0):
        fields = [ino, mode, 0, 0, nlink, 1700000000, len(data), 0, 0, major, minor, len(name) + 1, 0]
        out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + name + b"\0")
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for name, mode, data, ino, nlink, major, minor in entries:
        put(name, ino, mode, nlink, data, major, minor)
    put(b"TRAILER!!!", 0, 0, 1, b"")
    return bytes(out)


def cpio_seeds(directory):
    directory.mkdir(parents=True, exist_ok=True)
    archive = newc([
        (b"etc", 0o40755, b"", 1, 2, 0, 0),
        (b"etc/hostname", 0o100644, b"utx\n", 2, 1, 0, 0),
        (b"./bin/prog", 0o100755, b"\x7fELF" + b"\0" * 5000 + b"end", 3, 1, 0, 0),
        (b"dev/null", 0o20666, b"", 4, 1, 1, 3),
        (b"dev/stdin", 0o120777, b"/proc/self/fd/0", 5, 1, 0, 0),
        (b"a/one", 0o100644, b"", 6, 2, 0, 0),
        (b"a/two", 0o100644, b"shared\n", 6, 2, 0, 0),
        (b"fifo", 0o10644, b"", 7, 1, 0, 0),
    ])
    # The first byte picks the mode: 0 an arbitrary archive, 1 a writer round trip, 2 a root image.
    (directory / "archive").write_bytes(b"\0" + archive)
    (directory / "archive_truncated").write_bytes(b"\0" + archive[:300])
    # Names that CpioWriter must refuse, as the reader does: an entry below a file, and
    # TRAILER!!! (the reader stops there; only at the top, d/TRAILER!!! is a name like any).
    (directory / "below_a_file").write_bytes(b"\0" + newc([
        (b"f", 0o100644, b"x", 1, 1, 0, 0),
        (b"f/below", 0o100644, b"y", 2, 1, 0, 0),
    ]))
    (directory / "trailer_names").write_bytes(b"\0" + newc([
        (b"d/TRAILER!!!", 0o100644, b"in d", 1, 1, 0, 0),
        (b"TRAILER!!!", 0o100644, b"", 2, 1, 0, 0),
        (b"after", 0o100644, b"lost", 3, 1, 0, 0),
    ]))
    rng = random.Random(1)
    for mode in (1, 2):
        for i in range(3):
            (directory / f"mode{mode}_{i}").write_bytes(bytes([mode]) + rng.randbytes(200 + 100 * i))


def random_seeds(directory, count, length):
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(directory.name)
    for i in range(count):
        (directory / f"random{i}").write_bytes(rng.randbytes(length * (i + 1)))


def main():
    for target in ("elf_fuzz", "analyze_fuzz", "rewrite_fuzz", "cpio_fuzz", "minifs_ops_fuzz",
                   "hypercall_fuzz"):
        shutil.rmtree(CORPUS / target, ignore_errors=True)
    elf_seeds(CORPUS / "elf_fuzz")
    for target in ("analyze_fuzz", "rewrite_fuzz"):
        shutil.copytree(CORPUS / "elf_fuzz", CORPUS / target)
    cpio_seeds(CORPUS / "cpio_fuzz")
    random_seeds(CORPUS / "minifs_ops_fuzz", 4, 128)
    random_seeds(CORPUS / "hypercall_fuzz", 4, 256)
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    print(f"fuzz/corpus: {sum(1 for f in CORPUS.rglob('*') if f.is_file())} files, {total} bytes")


if __name__ == "__main__":
    main()
