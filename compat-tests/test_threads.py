"""Threads: pthreads over clone and futex, natively and under utx-run."""

import re

import pytest

from conftest import (assert_same, check_program, expect_native, program, run_native,
                      run_utx)


def test_threads(flavor):
    check_program(flavor, "threads")


def test_thread_stress(flavor):
    check_program(flavor, "thread_stress")


def test_smp(flavor):
    """mprotect and munmap take effect in a thread computing on another CPU (TLB
    shootdown), mappings churn beside a computing thread, and more computing threads than
    CPUs all progress (time slices preempt the application). On the default vCPUs, and on
    two and three below."""
    check_program(flavor, "smp")


# Programs run again with -c 2 and -c 3 (the QEMU backend's default is one vCPU): threads
# on several CPUs at once, in glibc and musl.
SMP_PROGRAMS = ["smp", "sched", "threads", "fd_wait", "signals", "posix_timers", "openmp"]


@pytest.mark.parametrize("cpus", ["2", "3"])
@pytest.mark.parametrize("name", SMP_PROGRAMS)
@pytest.mark.parametrize("smp_flavor", ["glibc-static", "musl-static"])
def test_on_several_vcpus(smp_flavor, name, cpus):
    if name == "openmp" and smp_flavor == "musl-static":
        pytest.skip("libgomp is glibc's: the OpenMP program is built for glibc only")
    prog = program(smp_flavor, name)
    native = run_native(prog)
    expect_native(native)
    assert_same(native, run_utx(prog, options=["-c", cpus]))


def test_fd_wait(flavor):
    """poll, select, epoll, eventfd and timerfd with other threads making descriptors
    ready, and signals (with ppoll's, pselect6's and epoll_pwait's masks) ending waits."""
    check_program(flavor, "fd_wait")


def test_thread_stress_gives_memory_back():
    """Thread stacks, kernel stacks and FPU areas all come back: the guest's free memory
    after 49 more rounds of 200 threads and a futex ping-pong is what it was after one."""
    r = run_utx(program("glibc-static", "thread_stress"), ["leak"])
    assert r.status == 0, r.describe()
    lost = int(re.search(rb"lost KiB: (-?\d+)", r.stdout).group(1))
    assert lost <= 64, f"{lost} KiB of guest memory not given back\n{r.describe()}"


def test_trace_names_the_thread_on_every_line():
    r = run_utx(program("glibc-static", "threads"), options=["--trace"])
    assert r.status == 0, r.describe()
    lines = r.stderr.decode().splitlines()
    calls = [l for l in lines if re.match(r"^\[pid \d+\] [a-z_0-9]+\(", l)]
    count = int(re.search(r"^utx-run: (\d+) system calls$", r.stderr.decode(), re.M).group(1))
    assert len(calls) == count, r.describe()  # one line a call; exit's before it runs
    tids = {int(re.match(r"^\[pid (\d+)\]", l).group(1)) for l in calls}
    assert 1 in tids and len(tids) > 64, f"threads seen in the trace: {sorted(tids)[:10]}…"


@pytest.mark.parametrize("flavor", ["glibc-static", "glibc-static-pie"])  # libgomp is glibc's
def test_openmp(flavor):
    check_program(flavor, "openmp")
