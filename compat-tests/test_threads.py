"""Threads: pthreads over clone and futex, natively and under utx-run."""

import re

from conftest import check_program, program, run_utx


def test_threads(flavor):
    check_program(flavor, "threads")


def test_thread_stress(flavor):
    check_program(flavor, "thread_stress")


def test_thread_stress_gives_memory_back():
    """Thread stacks, kernel stacks and FPU areas all come back: the guest's free memory
    after 49 more rounds of 200 threads and a futex ping-pong is what it was after one."""
    r = run_utx(program("glibc-static", "thread_stress"), ["leak"])
    assert r.status == 0, r.describe()
    lost = int(re.search(rb"lost KiB: (-?\d+)", r.stdout).group(1))
    assert lost <= 64, f"{lost} KiB of guest memory not given back\n{r.describe()}"
