"""stdin/stdout plumbing, fd errors, randomness, system information, scheduling."""

import random

import pytest

from conftest import check_program

SEQ_1_100000 = b"".join(b"%d\n" % i for i in range(1, 100001))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(SEQ_1_100000, id="seq-1-100000"),
        pytest.param(random.Random(7).randbytes(3 << 20), id="binary-3MiB"),
        pytest.param(b"", id="empty"),
        pytest.param(b"no newline at the end", id="no-newline"),
    ],
)
def test_cat_copies_stdin_to_stdout(flavor, data):
    check_program(flavor, "cat", input=data, stdout=data)


def test_getrandom(flavor):
    native, _ = check_program(flavor, "getrandom")
    assert native.stdout.endswith(b"\nok\n")


def test_fd_errors(flavor):
    native, _ = check_program(flavor, "fd_errors")
    assert b"lseek on stdin (a pipe): ESPIPE\n" in native.stdout


def test_sysinfo_and_rlimits(flavor):
    check_program(flavor, "sysinfo")


def test_sched(flavor):
    native, _ = check_program(flavor, "sched")
    assert b"at least 1 CPU: yes\n" in native.stdout


def test_fd_sharing(flavor):
    check_program(flavor, "fd_sharing")


def test_files(flavor):
    check_program(flavor, "files")
