"""Time: clocks, gettimeofday, time, sleeps."""

from conftest import check_program


def test_clocks(flavor):
    native, _ = check_program(flavor, "clock")
    assert native.stdout.startswith(b"monotonic advanced: ok\n")


def test_nanosleep(flavor):
    native, _ = check_program(flavor, "nanosleep")
    assert b"nanosleep lasted at least 10 ms: ok\n" in native.stdout
