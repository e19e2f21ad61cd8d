"""What the benchmarks share: the backend to use, and runs of workloads that print their
own timings as "key value" lines."""

import os
import statistics
import subprocess
import sys
from pathlib import Path


def default_backend(utx_run):
    """UTX_BACKEND if set, else what utx-run's --backend auto picks here."""
    if os.environ.get("UTX_BACKEND"):
        return os.environ["UTX_BACKEND"]
    which = subprocess.run([str(utx_run), "--which-backend"], capture_output=True, text=True)
    return "kvm" if which.stdout.strip() == "kvm" else "qemu"


def kvm_is_pvm():
    """Whether /dev/kvm here is PVM (kvm_pvm), as utx-run tells it apart."""
    return Path("/sys/module/kvm_pvm").exists()


def run_workload(cmd):
    """One run of cmd: its "key value" lines as a dict; exits with its stderr on failure."""
    result = subprocess.run([str(c) for c in cmd], capture_output=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
                 f"{result.stderr.decode(errors='replace')}")
    values = {}
    for line in result.stdout.decode().splitlines():
        key, value = line.split()
        values[key] = float(value)
    return values


def measure(cmd, runs):
    """The median of each key over `runs` runs of cmd."""
    results = {}
    for _ in range(runs):
        for key, value in run_workload(cmd).items():
            results.setdefault(key, []).append(value)
    return {k: statistics.median(v) for k, v in results.items()}
