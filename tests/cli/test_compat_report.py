"""compat-tests/report: a suite run through it gives the table per family, with native
failures counted apart and each failure's first difference; bad input is one error line."""

import json
import re
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "compat-tests" / "report"

SAMPLE = '''
import pytest
from conftest import Result, assert_same, expect_native

def test_same():
    assert_same(Result(["p"], 0, b"x\\n", b""), Result(["p"], 0, b"x\\n", b""))

def test_differs():
    assert_same(Result(["p"], 0, b"x\\ny\\n", b""), Result(["p"], 0, b"x\\nz\\n", b""))

def test_native_wrong():
    expect_native(Result(["p"], 3, b"", b""))

@pytest.mark.skip(reason="needs a package")
def test_skipped():
    pass

@pytest.mark.xfail(strict=True, reason="a known gap")
def test_known():
    assert False
'''


def run_report(*args):
    # The harness's own conftest as a plugin, over a suite of our making.
    env = dict(os.environ, PYTHONPATH=str(REPO / "compat-tests"))
    return subprocess.run([sys.executable, str(REPORT), *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_counts_and_first_differences(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_sample.py").write_text(SAMPLE)
    results = tmp_path / "r.json"
    r = run_report("--results", str(results), "--markdown", "--", "-p", "conftest", str(suite))
    assert r.returncode == 1, r.stdout + r.stderr  # pytest's: a test failed
    row = [l.split() for l in r.stdout.splitlines() if l.startswith("sample ")]
    assert row == [["sample", "5", "3", "1", "1"]], r.stdout  # tests, native ok, utx ok, skipped
    assert re.search(r"^FAILED \S*test_sample.py::test_differs: stdout differs at byte 2 \(line 2\)", r.stdout, re.M)
    assert "utx:    b'z\\n'" in r.stdout
    assert re.search(r"^NATIVE FAILED \(broken test\) \S*test_sample.py::test_native_wrong: exit status 3, "
                     r"expected 0$", r.stdout, re.M)
    assert re.search(r"^KNOWN FAILURE \S*test_sample.py::test_known: a known gap$", r.stdout, re.M)
    assert "| sample | 5 | 3 | 1 | 1 |" in r.stdout
    verdicts = {t["id"].split("::")[1]: t["verdict"] for t in json.loads(results.read_text())["tests"]}
    assert verdicts == {"test_same": "passed", "test_differs": "utx-failed",
                        "test_native_wrong": "native-failed", "test_skipped": "skipped",
                        "test_known": "known-failure"}
    # The same table again from the kept results, without running anything.
    again = run_report("--from", str(results))
    assert again.returncode == 0 and "sample      5          3       1        1" in again.stdout


def test_missing_results_file(tmp_path):
    r = run_report("--from", str(tmp_path / "none.json"))
    assert r.returncode == 2
    assert r.stderr.strip() == f"report: {tmp_path / 'none.json'}: no such results file"


def test_garbage_results_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run_report("--from", str(bad))
    assert r.returncode == 2 and "not a results file" in r.stderr and r.stdout == ""
