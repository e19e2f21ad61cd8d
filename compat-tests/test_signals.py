"""Signals: handlers, masks, faults, timers (natively and under utx-run), and the exit
status of a program a signal ends."""

import pytest

from conftest import check_program


def test_signals(flavor):
    check_program(flavor, "signals")


def test_signalfd(flavor):
    check_program(flavor, "signalfd")


def test_posix_timers(flavor):
    check_program(flavor, "posix_timers")


@pytest.mark.parametrize("sig,status", [(1, 129), (6, 134), (10, 138), (11, 139), (14, 142),
                                        (15, 143), (9, 137)])
def test_default_action_exit_status(flavor, sig, status):
    """raise(SIG) with the default action: the shell's 128+SIG, and no report (nothing
    faulted)."""
    native, guest = check_program(flavor, "signals", ["die", str(sig)], status=status, stdout=b"")
    assert guest.stderr == b""
