"""Harness for the Linux compatibility tests.

Every test runs a program natively first (a test whose program misbehaves natively is a
broken test and fails as such), then under `utx-run --backend B`, and compares stdout,
stderr and exit status exactly.

Environment:
  UTX_RUN                   utx-run binary (default <repo>/build/loader/utx-run)
  UTX_COMPAT_BIN            built programs, <flavor>/<name> (default <repo>/build/compat-tests/bin)
  UTX_BACKEND               kvm | qemu (default: what utx-run --which-backend says)
  UTX_ALLOW_MISSING_RUNNER  1: a missing utx-run skips the utx half instead of failing
  UTX_TIMEOUT               seconds allowed for one utx-run (default 60)
"""

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FLAVORS = ("glibc-static", "glibc-static-pie", "musl-static")
UTX_RUN = Path(os.environ.get("UTX_RUN", REPO / "build" / "loader" / "utx-run"))
COMPAT_BIN = Path(os.environ.get("UTX_COMPAT_BIN", REPO / "build" / "compat-tests" / "bin"))
ALLOW_MISSING_RUNNER = os.environ.get("UTX_ALLOW_MISSING_RUNNER") == "1"
UTX_TIMEOUT = float(os.environ.get("UTX_TIMEOUT", "60"))
NATIVE_TIMEOUT = 60.0

# The environment of every run, native and utx-run alike, so that output that depends on
# the environment is reproducible. utx-run passes its own environment to the guest.
BASE_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": "/", "UTX_COMPAT": "1"}

# The one line utx-run prints for a guest killed by SIGSEGV.
SEGV_REPORT = re.compile(
    r"^utx-run: (?P<prog>.+): Segmentation fault \(signal 11\) "
    r"at address (?P<addr>0x[0-9a-fA-F]+), rip 0x[0-9a-fA-F]+$"
)


def _detect_backend():
    """Returns (backend, loud warning or None, why KVM tests are skipped or None)."""
    chosen = os.environ.get("UTX_BACKEND")
    if chosen:
        skip = None if chosen == "kvm" else f"UTX_BACKEND={chosen}: KVM tests skipped"
        return chosen, None, skip
    try:
        which = subprocess.run([str(UTX_RUN), "--which-backend"], capture_output=True,
                               text=True).stdout.strip()
    except OSError as error:
        which = f"qemu: {UTX_RUN} cannot run ({error.strerror})"
    if which == "kvm":
        return "kvm", None, None
    why = which.removeprefix("qemu: ")
    warning = f"{why}: KVM tests SKIPPED, running under the QEMU backend"
    return "qemu", warning, warning


BACKEND, BACKEND_WARNING, KVM_SKIP_REASON = _detect_backend()


def pytest_addoption(parser):
    parser.addoption("--utx-report", metavar="FILE", default=None,
                     help="write each test's outcome (family, verdict, first difference) "
                          "to FILE as JSON, for compat-tests/report")


def pytest_configure(config):
    config.addinivalue_line("markers", "kvm: needs the KVM backend (skipped under QEMU)")


NATIVE_WRONG = "the native run is wrong"
_OUTCOMES = {}  # --utx-report: nodeid -> {"verdict", "detail"}


def _first_problem(text):
    """What differed first, from a failure's `E` lines: the assert_same and expect_native
    messages lead with it (for stdout and stderr, the native line and utx's), else the
    first such line."""
    lines = [l[1:].strip() for l in text.splitlines() if l.startswith("E ")]
    for i, line in enumerate(lines):
        if "utx-run does not behave like the native process:" in line:
            said = []
            for l in lines[i + 1:i + 6]:
                if l.startswith("---"):
                    break
                said.append(l)
            return " | ".join(said)
        if NATIVE_WRONG in line:
            return line.split(NATIVE_WRONG, 1)[1].removeprefix(" (a broken test, not a utx bug):").strip()
    return lines[0] if lines else (text.strip().splitlines() or [""])[-1]


def pytest_runtest_logreport(report):
    """Records the verdict of each test for --utx-report: the call's, or the setup's when
    the test did not get that far (a skip, a fixture that failed), or the teardown's when
    only that failed."""
    if report.when != "call" and report.outcome == "passed":
        return
    previous = _OUTCOMES.get(report.nodeid)
    if previous and not (previous["verdict"] == "passed" and report.failed):
        return
    text = report.longreprtext if report.failed else ""
    if hasattr(report, "wasxfail"):
        # A known difference (strict xfail): native ran right, utx does not pass yet.
        verdict = "known-failure" if report.skipped else "utx-failed"
        text = report.wasxfail or "an expected failure that passed (strict xfail)"
    elif report.passed:
        verdict = "passed"
    elif report.skipped:
        verdict = "skipped"
        text = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    elif NATIVE_WRONG in text:
        verdict = "native-failed"
    else:
        verdict = "utx-failed"
    if verdict in ("skipped", "known-failure"):
        detail = text
    else:
        detail = _first_problem(text) if text else ""
    _OUTCOMES[report.nodeid] = {"verdict": verdict, "detail": detail}


def pytest_sessionfinish(session):
    path = session.config.getoption("--utx-report")
    if not path:
        return
    tests = []
    for nodeid, outcome in _OUTCOMES.items():
        module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        family = module.removeprefix("test_").removesuffix(".py")
        tests.append({"id": nodeid, "family": family, **outcome})
    Path(path).write_text(json.dumps({"backend": BACKEND, "tests": tests}, indent=1) + "\n")


def pytest_report_header(config):
    runner = "" if UTX_RUN.exists() else " (MISSING)"
    lines = [
        f"utx-run: {UTX_RUN}{runner}",
        f"utx backend: {BACKEND}",
        f"compat programs: {COMPAT_BIN}",
    ]
    if BACKEND_WARNING:
        lines.append(f"WARNING: {BACKEND_WARNING}")
    return lines


def pytest_collection_modifyitems(config, items):
    if KVM_SKIP_REASON is None:
        return
    for item in items:
        if "kvm" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=KVM_SKIP_REASON))


def pytest_terminal_summary(terminalreporter):
    if BACKEND_WARNING:
        terminalreporter.write_sep("!", f"WARNING: {BACKEND_WARNING}", red=True, bold=True)
    if not UTX_RUN.exists():
        terminalreporter.write_sep("!", f"utx-run not found at {UTX_RUN}", red=True, bold=True)


@dataclass
class Result:
    argv: list
    status: int  # exit status as a shell reports it: 128+N for death by signal N
    stdout: bytes
    stderr: bytes

    def describe(self):
        return (
            f"command: {self.argv}\nstatus: {self.status}\n"
            f"stdout: {_excerpt(self.stdout)}\nstderr: {_excerpt(self.stderr)}"
        )


def _excerpt(data, limit=2000):
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}... ({len(data)} bytes)"


def shell_status(returncode):
    return 128 - returncode if returncode < 0 else returncode


def _session_members(sid):
    """The processes of session sid still there (zombies included)."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid:  # state, ppid, pgrp, session, ...
            members.append(f"{entry.name} {stat[:stat.rindex(')') + 1]} {fields[0]}")
    return members


def run_process(argv, *, input=b"", env=None, timeout, cwd=None, no_leftovers=False):
    """Runs argv in its own session so that a timeout kills it and all its children
    (utx-run's QEMU included), and fails the test on a timeout instead of hanging.
    no_leftovers: fail when a process of that session outlives argv by a second."""
    process = subprocess.Popen(
        [str(a) for a in argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=BASE_ENV if env is None else env,
        cwd=cwd,
        start_new_session=True,
    )
    timed_out = False
    try:
        stdout, stderr = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    finally:
        if process.poll() is None:  # e.g. interrupted: never leave the group running
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if timed_out:
        pytest.fail(
            f"timed out after {timeout:g} s: {[str(a) for a in argv]}\n"
            f"stdout so far: {_excerpt(stdout)}\nstderr so far: {_excerpt(stderr)}"
        )
    if no_leftovers:
        deadline = time.monotonic() + 1.0
        while (left := _session_members(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if left:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"processes left behind by {[str(a) for a in argv]}: {left}")
    return Result([str(a) for a in argv], shell_status(process.returncode), stdout, stderr)


def program(flavor, name):
    path = COMPAT_BIN / flavor / name
    if not path.is_file():
        pytest.fail(
            f"compat program {path} is not built: build the `compat_programs` target "
            f"(or point UTX_COMPAT_BIN at <build>/compat-tests/bin)"
        )
    return path


def run_native(prog, args=(), *, input=b"", env=None, cwd=None):
    """cwd: the native counterpart of utx-run's -w (default: the test runner's own)."""
    return run_process([prog, *args], input=input, env=env, timeout=NATIVE_TIMEOUT, cwd=cwd)


def run_utx(prog, args=(), *, input=b"", env=None, options=(), no_leftovers=False):
    if not UTX_RUN.exists():
        message = (
            f"utx-run not found at {UTX_RUN}: build the loader or set UTX_RUN "
            f"(UTX_ALLOW_MISSING_RUNNER=1 skips the utx half of the tests)"
        )
        if ALLOW_MISSING_RUNNER:
            pytest.skip(message)
        pytest.fail(message)
    argv = [UTX_RUN, "--backend", BACKEND, *options, prog, *args]
    return run_process(argv, input=input, env=env, timeout=UTX_TIMEOUT, no_leftovers=no_leftovers)


def _first_difference(native, guest):
    for index, (a, b) in enumerate(zip(native, guest)):
        if a != b:
            return index
    return min(len(native), len(guest))


def _describe_difference(stream, native, guest):
    at = _first_difference(native, guest)
    line = native.count(b"\n", 0, at) + 1
    start = native.rfind(b"\n", 0, at) + 1
    return (
        f"{stream} differs at byte {at} (line {line}); native {len(native)} bytes, "
        f"utx {len(guest)} bytes\n"
        f"  native: {native[start:at + 80]!r}\n"
        f"  utx:    {guest[start:at + 80]!r}"
    )


def assert_same(native, guest, *, compare_stderr=True):
    problems = []
    if guest.status != native.status:
        problems.append(f"exit status: native {native.status}, utx {guest.status}")
    if guest.stdout != native.stdout:
        problems.append(_describe_difference("stdout", native.stdout, guest.stdout))
    if compare_stderr and guest.stderr != native.stderr:
        problems.append(_describe_difference("stderr", native.stderr, guest.stderr))
    if problems:
        pytest.fail(
            "utx-run does not behave like the native process:\n"
            + "\n".join(problems)
            + f"\n--- utx run ---\n{guest.describe()}"
        )


def expect_native(result, *, status=0, stdout=None, stderr=b""):
    """A test's own sanity check of the native run: if this fails, the test is broken."""
    problems = []
    if result.status != status:
        problems.append(f"exit status {result.status}, expected {status}")
    if stdout is not None and result.stdout != stdout:
        problems.append(f"stdout {_excerpt(result.stdout)}, expected {_excerpt(stdout)}")
    if stderr is not None and result.stderr != stderr:
        problems.append(f"stderr {_excerpt(result.stderr)}, expected {_excerpt(stderr)}")
    if problems:
        pytest.fail("the native run is wrong (a broken test, not a utx bug): " + "; ".join(problems)
                    + f"\n{result.describe()}")


def check_program(flavor, name, args=(), *, input=b"", status=0, stdout=None):
    """The common test: native run as expected, then utx-run behaves identically."""
    prog = program(flavor, name)
    native = run_native(prog, args, input=input)
    expect_native(native, status=status, stdout=stdout)
    guest = run_utx(prog, args, input=input)
    assert_same(native, guest)
    return native, guest


@pytest.fixture(params=FLAVORS)
def flavor(request):
    return request.param
