"""Time: clocks, gettimeofday, time, sleeps, and the vDSO that serves the clocks."""

import re
import shutil

import pytest

from conftest import NATIVE_TIMEOUT, check_program, program, run_process, run_utx


def test_clocks(flavor):
    native, _ = check_program(flavor, "clock")
    assert native.stdout.startswith(b"monotonic advanced: ok\n")


def test_nanosleep(flavor):
    native, _ = check_program(flavor, "nanosleep")
    assert b"nanosleep lasted at least 10 ms: ok\n" in native.stdout


def test_vdso(flavor):
    """The vDSO's symbols as libc looks them up, and its clocks agreeing with the syscalls."""
    native, _ = check_program(flavor, "vdso")
    assert b"__vdso_clock_gettime@LINUX_2.6 is exported: ok\n" in native.stdout


CLOCK_CALLS = ("clock_gettime", "gettimeofday", "time")


def test_vdso_reads_the_clock_without_a_system_call(flavor):
    """1000 calls each of clock_gettime, gettimeofday and time: no such system call under
    strace natively, none in utx-run --trace."""
    prog = program(flavor, "vdso")
    args = ["loop", "1000"]
    strace = shutil.which("strace")
    if not strace:
        pytest.fail("strace is missing (./do install)")
    native = run_process([strace, "-f", "-e", "trace=" + ",".join(CLOCK_CALLS), prog, *args],
                         timeout=NATIVE_TIMEOUT)
    assert native.status == 0, native.describe()
    names = b"|".join(c.encode() for c in CLOCK_CALLS)
    calls = re.compile(rb"^(\[pid +\d+\] )?(%s)\(" % names, re.M)
    assert not calls.search(native.stderr), native.describe()

    guest = run_utx(prog, args, options=["--trace"])
    assert guest.status == 0 and guest.stdout == native.stdout, guest.describe()
    traced = re.findall(rb"^\[pid \d+\] (\w+)\(", guest.stderr, re.M)
    assert b"exit_group" in traced, guest.describe()  # the trace itself works
    assert not set(traced) & {c.encode() for c in CLOCK_CALLS}, guest.describe()


def test_vdso_may_be_unmapped(flavor):
    """A program may munmap its vDSO and vvar page as on Linux, then read the clock by system
    call. Under utx only: some Linux kernels seal these mappings (CONFIG_MSEAL_SYSTEM_MAPPINGS),
    so the native answer depends on the host's configuration."""
    guest = run_utx(program(flavor, "vdso"), ["unmap"])
    assert guest.status == 0, guest.describe()
    assert guest.stdout == (
        b"/proc/self/maps lists [vdso] at AT_SYSINFO_EHDR: ok\n"
        b"/proc/self/maps lists [vvar] below [vdso]: ok\n"
        b"munmap [vdso]: ok\n"
        b"munmap [vvar]: ok\n"
        b"the clock by syscall after that: ok\n"
    ), guest.describe()
