#!/usr/bin/python3
"""File system throughput: the guest's minifs under utx-run against native tmpfs.

Builds bench/fs_workload.c statically and runs its two workloads natively, in a fresh
directory on a tmpfs, and under utx-run, on the guest's /tmp (minifs), --runs times each
(interleaved, so that a change in machine load hits both alike):
  postmark  create FILES files of 4 KiB in 10 subdirectories, TRANSACTIONS transactions
            (a read or an append of 4 KiB, then a create or a delete), delete everything;
  seqio     write MIB MiB in 1 MiB writes, fsync, read it back in 1 MiB reads.
The program times only the workload itself (CLOCK_MONOTONIC), so neither process start nor
the VM's boot counts. Prints the medians and the ratio utx/native (throughput: higher is
faster; the issue's target is 1.0 or more). It measures; it never judges. Under the QEMU
backend (no /dev/kvm) the guest runs under TCG, a CPU emulator, while native runs on the
real CPU: the ratios then say nothing about KVM.

  bench/fs_bench.py [--quick] [--runs N] [--backend kvm|qemu] [--memory SIZE]
                    [--files N] [--transactions N] [--mib N] [--utx-run PATH]
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import default_backend, run_workload

REPO = Path(__file__).resolve().parent.parent

# key printed by fs_workload, label, unit
METRICS = [
    ("postmark_create_ops", "postmark create", "ops/s"),
    ("postmark_transactions_ops", "postmark transactions", "tx/s"),
    ("postmark_delete_ops", "postmark delete", "ops/s"),
    ("postmark_total_ops", "postmark overall", "ops/s"),
    ("seqio_write_mibs", "sequential write+fsync", "MiB/s"),
    ("seqio_read_mibs", "sequential read", "MiB/s"),
]


def fs_type(path):
    return subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True,
                          check=True).stdout.strip()


def native_parent():
    """A tmpfs directory for the native runs: /tmp when it is one, else /dev/shm."""
    for candidate in (tempfile.gettempdir(), "/dev/shm"):
        if os.path.isdir(candidate) and fs_type(candidate) == "tmpfs":
            return candidate
    sys.exit("fs_bench: neither /tmp nor /dev/shm is a tmpfs: no native baseline to compare with")


def machine_summary():
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    return f"{platform.machine()}, {os.cpu_count()} CPUs ({model}), load average {load:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smaller workloads and 3 runs (a few seconds)")
    ap.add_argument("--runs", type=int, default=None, help="runs of each (default 5, quick 3)")
    ap.add_argument("--backend", default=None)
    ap.add_argument("--memory", default="1G", help="utx-run -m (minifs may take half of it)")
    ap.add_argument("--files", type=int, default=None, help="postmark files (default 5000)")
    ap.add_argument("--transactions", type=int, default=None,
                    help="postmark transactions (default 10000)")
    ap.add_argument("--mib", type=int, default=None, help="seqio MiB (default 256)")
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    args = ap.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    files = args.files or (1000 if args.quick else 5000)
    transactions = args.transactions or (2000 if args.quick else 10000)
    mib = args.mib or (64 if args.quick else 256)
    backend = args.backend or default_backend(args.utx_run)
    parent = native_parent()

    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp) / "fs_workload"
        subprocess.run(["gcc", "-static", "-O2", "-o", str(prog),
                        str(REPO / "bench" / "fs_workload.c")], check=True)
        workloads = [["postmark", str(files), str(transactions)], ["seqio", str(mib)]]
        native = {key: [] for key, _, _ in METRICS}
        guest = {key: [] for key, _, _ in METRICS}
        for _ in range(runs):
            for workload in workloads:
                # A fresh directory each run: nothing left over from the one before.
                with tempfile.TemporaryDirectory(dir=parent, prefix="fs_bench.") as where:
                    for key, value in run_workload([prog, where, *workload]).items():
                        if key in native:
                            native[key].append(value)
                # A fresh VM each run; the guest's /tmp is an empty minifs directory.
                utx = [args.utx_run, "--backend", backend, "-m", args.memory, prog, "/tmp",
                       *workload]
                for key, value in run_workload(utx).items():
                    if key in guest:
                        guest[key].append(value)

    backend_note = {"qemu": "QEMU TCG: the guest CPU is emulated",
                    "kvm": "KVM"}.get(backend, backend)
    print(f"minifs (utx-run -m {args.memory}, guest /tmp) vs native tmpfs ({parent}), "
          f"median of {runs} runs")
    print(f"backend: {backend} ({backend_note}); machine: {machine_summary()}")
    print(f"postmark: {files} files of 4 KiB, {transactions} transactions; seqio: {mib} MiB "
          f"in 1 MiB requests")
    print(f"  {'workload':24s} {'native':>12s} {'utx-run':>12s}  {'unit':6s} {'utx/native':>10s}")
    for key, label, unit in METRICS:
        n, g = statistics.median(native[key]), statistics.median(guest[key])
        print(f"  {label:24s} {n:12.1f} {g:12.1f}  {unit:6s} {g / n:9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
