"""Busybox's own test suite, natively and under utx-run (external/busybox_testsuite.py).

Every test script, pipeline and command substitution of the suite is a process, each a VM
under utx: the KVM backend only (the QEMU backend forks too, but each fork starts a QEMU,
about 85 ms, and the suite did not finish there in 45 minutes). It takes minutes (about
30 s natively), so it runs when
UTX_BUSYBOX_TESTSUITE=1 or when asked for by name (pytest -k busybox_testsuite), and says
so loudly when it does not.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BACKEND, UTX_RUN

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "external" / "busybox_testsuite.py"
EXPLAINED = HERE / "external" / "busybox_testsuite.explained"


@pytest.mark.kvm
def test_busybox_testsuite(request):
    asked = os.environ.get("UTX_BUSYBOX_TESTSUITE") == "1" or \
        "busybox_testsuite" in (request.config.getoption("keyword") or "")
    if not asked:
        pytest.skip("SKIPPED: busybox's testsuite takes minutes under utx: "
                    "UTX_BUSYBOX_TESTSUITE=1 (or -k busybox_testsuite) runs it")
    r = subprocess.run([sys.executable, str(DRIVER), "--build", str(UTX_RUN.parents[1]),
                        "--backend", BACKEND, "--explained", str(EXPLAINED)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout)
    if r.returncode == 77:
        pytest.skip("SKIPPED: " + r.stdout.strip().splitlines()[-1])
    assert r.returncode == 0, "results differ from native:\n" + r.stdout
