"""Processes: execve in the same VM (fork via VM clone joins these tests as it lands)."""

import shutil
from pathlib import Path

import pytest

from conftest import assert_same, check_program, expect_native, program, run_native, run_utx

BUSYBOX = Path("/bin/busybox")


def test_exec(flavor):
    """Errors before the point of no return, execve from a second thread, what survives an
    exec, #! scripts, fexecve (compat-tests/programs/exec.c)."""
    check_program(flavor, "exec")


@pytest.mark.parametrize("cpus", ["2", "3"])
def test_exec_on_several_vcpus(cpus):
    """The thread that execs waits for the other one, running on another vCPU, to go."""
    prog = program("glibc-static", "exec")
    native = run_native(prog)
    expect_native(native)
    assert_same(native, run_utx(prog, options=["-c", cpus]))


def test_busybox_exec_replaces_the_shell():
    if not BUSYBOX.is_file():
        pytest.fail(f"{BUSYBOX} missing: apt-get install busybox-static")
    real = str(BUSYBOX.resolve())
    args = ["sh", "-c", f"echo before; exec {real} printf '%s\\n' after; echo never"]
    native = run_native(BUSYBOX, args)
    expect_native(native, stdout=b"before\nafter\n")
    assert_same(native, run_utx(BUSYBOX, args))


def test_exec_from_a_host_mount(tmp_path):
    """The new program comes from a host directory shared with -v."""
    shutil.copy(program("musl-static", "hello"), tmp_path / "hello")
    (tmp_path / "script").write_text("#!./hello\n")
    (tmp_path / "script").chmod(0o755)
    native = run_native(BUSYBOX, ["sh", "-c", f"cd {tmp_path} && exec ./script"])
    expect_native(native)
    guest = run_utx(BUSYBOX, ["sh", "-c", "cd /mnt && exec ./script"],
                    options=["-v", f"{tmp_path}:/mnt"])
    assert_same(native, guest)
