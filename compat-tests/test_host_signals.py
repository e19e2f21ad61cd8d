"""Signals sent to utx-run reach the program, as they would reach it natively: handled in
pause(), while it computes without a system call, or ending it with the default action."""

import os
import signal
import subprocess

import pytest

from conftest import BACKEND, BASE_ENV, UTX_RUN, program


def run_and_signal(argv, sig):
    """Starts argv, waits for its "ready" line, sends `sig`, returns (status, stdout)."""
    p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV,
                         start_new_session=True)
    try:
        first = p.stdout.readline()
        assert first == b"ready\n", (first, p.stderr.read())
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    status = 128 - p.returncode if p.returncode < 0 else p.returncode
    return status, first + out, err


CASES = [("pause", signal.SIGTERM), ("pause", signal.SIGINT), ("pause", signal.SIGHUP),
         ("spin", signal.SIGUSR1), ("default", signal.SIGTERM), ("default", signal.SIGINT)]


@pytest.mark.parametrize("mode,sig", CASES, ids=[f"{m}-{s.name}" for m, s in CASES])
def test_signal_sent_to_utx_run(mode, sig):
    prog = program("glibc-static", "wait_signal")
    native = run_and_signal([prog, mode], sig)
    expected = (128 + sig, b"ready\n") if mode == "default" else (0, b"ready\ngot signal %d\n" % sig)
    assert native[:2] == expected, f"native run: {native} (a broken test)"
    guest = run_and_signal([UTX_RUN, "--backend", BACKEND, prog, mode], sig)
    assert guest[:2] == native[:2], f"utx-run: {guest}"
    assert b"utx-run: " not in guest[2].replace(b"utx-run: notice:", b""), guest[2]
