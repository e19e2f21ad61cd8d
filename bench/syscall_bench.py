#!/usr/bin/python3
"""System call round trip (getpid in a loop) and a CPU-bound loop: native vs utx-run.

Builds bench/syscall_loop.c statically, runs it natively and under utx-run (median of
--runs each) and prints per-call nanoseconds, loop milliseconds and the ratios. It
measures; it never judges. Under the QEMU backend (no /dev/kvm) both run under TCG, so
the ratios say nothing about KVM or PVM.

  bench/syscall_bench.py [--backend kvm|qemu] [--runs N] [--calls N] [--utx-run PATH]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measure(cmd, runs):
    results = {"getpid_ns": [], "loop_ms": []}
    for _ in range(runs):
        out = subprocess.run(cmd, capture_output=True, check=True, timeout=600).stdout.decode()
        for line in out.splitlines():
            key, value = line.split()
            results[key].append(float(value))
    return {k: statistics.median(v) for k, v in results.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calls", type=int, default=1000000)
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    args = ap.parse_args()
    backend = args.backend or ("kvm" if os.path.exists("/dev/kvm") else "qemu")
    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp) / "syscall_loop"
        subprocess.run(["gcc", "-static", "-O2", "-o", str(prog), str(REPO / "bench" / "syscall_loop.c")],
                       check=True)
        native = measure([str(prog), str(args.calls)], args.runs)
        rows = [("native", native)]
        for mode in ([], ["--isolate"]):
            utx = measure([args.utx_run, "--backend", backend, *mode, str(prog), str(args.calls)],
                          args.runs)
            rows.append(("utx-run " + (mode[0] if mode else "default"), utx))
    print(f"getpid round trip and a 100M-iteration loop (backend {backend}, median of {args.runs})")
    for name, r in rows:
        print(f"  {name:20s} getpid {r['getpid_ns']:9.1f} ns  ({r['getpid_ns'] / native['getpid_ns']:6.1f}x)"
              f"   loop {r['loop_ms']:9.1f} ms  ({r['loop_ms'] / native['loop_ms']:5.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
