#!/usr/bin/python3
"""System call round trip (getpid in a loop), clock_gettime (through the vDSO, and by system
call) and a CPU-bound loop: native vs utx-run.

Builds bench/syscall_loop.c statically, runs it natively and under utx-run (median of
--runs each) and prints per-call nanoseconds, loop milliseconds and the ratios. It
measures; it never judges. Under the QEMU backend (no /dev/kvm) the guest runs under TCG,
so the ratios say nothing about KVM or PVM (where the vDSO's clock_gettime should cost
about what it costs natively, a few tens of nanoseconds).

  bench/syscall_bench.py [--backend kvm|qemu] [--runs N] [--calls N] [--utx-run PATH]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import default_backend, kvm_is_pvm, measure

REPO = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calls", type=int, default=1000000)
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    args = ap.parse_args()
    backend = args.backend or default_backend(args.utx_run)
    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp) / "syscall_loop"
        subprocess.run(["gcc", "-static", "-O2", "-o", str(prog), str(REPO / "bench" / "syscall_loop.c")],
                       check=True)
        native = measure([str(prog), str(args.calls)], args.runs)
        rows = [("native", native)]
        # PVM refuses --isolate (the kernel's pages are user pages there).
        pvm = backend == "kvm" and kvm_is_pvm()
        for mode in ([], ["--isolate"]) if not pvm else ([],):
            utx = measure([args.utx_run, "--backend", backend, *mode, str(prog), str(args.calls)],
                          args.runs)
            rows.append(("utx-run " + (mode[0] if mode else "default"), utx))
    print(f"getpid round trip, clock_gettime(CLOCK_MONOTONIC) by vDSO and by syscall, and a "
          f"100M-iteration loop (backend {backend}, median of {args.runs})")
    columns = [("getpid", "getpid_ns", "ns"), ("clock_gettime vDSO", "clock_gettime_ns", "ns"),
               ("clock_gettime syscall", "clock_syscall_ns", "ns"), ("loop", "loop_ms", "ms")]
    for name, r in rows:
        cells = [f"{label} {r[key]:9.1f} {unit} ({r[key] / native[key]:6.2f}x)"
                 for label, key, unit in columns]
        print(f"  {name:18s} " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
