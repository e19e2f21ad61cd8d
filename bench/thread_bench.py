#!/usr/bin/python3
"""Threads: pthread_create+join time, futex ping-pong latency and parallel speed-up, native
vs utx-run.

Builds bench/thread_work.c statically, runs it natively and under utx-run (median of --runs
each; the times are taken inside the program) and prints microseconds and the ratios
utx/native (lower is better for utx). It measures; it never judges. The ping-pong's two
threads may sit on two cores natively and on two vCPUs in utx (utx-run's default is one
vCPU per host core).

Parallel speed-up: a CPU-bound computation split over as many threads as the host has
cores, run in utx with -c 1, 2 and the host's core count, and natively pinned (taskset) to
as many cores; the speed-up of K CPUs is the time on 1 divided by the time on K. Under the
QEMU backend (no /dev/kvm) the guest's CPU is emulated: the ratios say nothing about KVM.

  bench/thread_bench.py [--backend kvm|qemu] [--runs N] [--threads N] [--rounds N]
                        [--steps N]
"""

import argparse
import os
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
    ap.add_argument("--threads", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=20000)
    ap.add_argument("--steps", type=int, default=400_000_000,
                    help="steps of the parallel computation, split over the threads")
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    args = ap.parse_args()
    backend = args.backend or default_backend(args.utx_run)
    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp) / "thread_work"
        subprocess.run(["gcc", "-static", "-O2", "-pthread", "-o", str(prog),
                        str(REPO / "bench" / "thread_work.c")], check=True)
        work = [str(prog), str(args.threads), str(args.rounds)]
        native = measure(work, args.runs)
        utx = measure([args.utx_run, "--backend", backend, *work], args.runs)
        cores = os.cpu_count() or 1
        counts = sorted({1, 2, cores})
        par = [str(prog), "parallel", str(max(2, cores)), str(args.steps)]
        native_par, utx_par = {}, {}
        for k in counts:
            native_par[k] = measure(["taskset", "-c", f"0-{k - 1}", *par],
                                    args.runs)["parallel_ms"]
            utx_par[k] = measure([args.utx_run, "--backend", backend, "-c", str(k), *par],
                                 args.runs)["parallel_ms"]
    print(f"threads (backend {backend}, median of {args.runs}; {args.threads} create+join, "
          f"{args.rounds} ping-pong round trips)")
    for key, label in (("create_join_us", "pthread_create + join"),
                       ("pingpong_us", "futex ping-pong round trip")):
        print(f"  {label:28s} native {native[key]:9.2f} us   utx {utx[key]:9.2f} us   "
              f"utx/native {utx[key] / native[key]:6.2f}x")
    print(f"parallel computation ({max(2, cores)} threads, {args.steps} steps; host has "
          f"{cores} cores)")
    for k in counts:
        print(f"  {k:2d} CPU{'s' if k > 1 else ' '}  native {native_par[k]:9.1f} ms "
              f"(speed-up {native_par[1] / native_par[k]:4.2f}x)   utx -c {k} "
              f"{utx_par[k]:9.1f} ms (speed-up {utx_par[1] / utx_par[k]:4.2f}x)   "
              f"utx/native {utx_par[k] / native_par[k]:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
