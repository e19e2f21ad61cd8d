#!/usr/bin/python3
"""System call round trip (getpid in a loop) and a CPU-bound loop: native vs utx-run.

Builds bench/syscall_loop.c statically, runs it natively and under utx-run (median of
--runs each) and prints per-call nanoseconds, loop milliseconds and the ratios. It
measures; it never judges. Under the QEMU backend (no /dev/kvm) both run under TCG, so
the ratios say nothing about KVM or PVM.

  bench/syscall_bench.py [--backend kvm|qemu] [--runs N] [--calls N] [--utx-run PATH]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import default_backend, measure

REPO = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calls", type=int, default=1000000)
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    args = ap.parse_args()
    backend = args.backend or default_backend()
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
