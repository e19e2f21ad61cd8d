#!/usr/bin/python3
"""Threads: pthread_create+join time and futex ping-pong latency, native vs utx-run.

Builds bench/thread_work.c statically, runs it natively and under utx-run (median of --runs
each; the times are taken inside the program) and prints microseconds and the ratios
utx/native (lower is better for utx). It measures; it never judges. Natively the two
threads of the ping-pong may sit on two cores; in utx they share the one vCPU there is so
far, so a round trip is two context switches in the guest instead of cross-core wake-ups.
Under the QEMU backend (no /dev/kvm) the guest's CPU is emulated: the ratios say nothing
about KVM.

  bench/thread_bench.py [--backend kvm|qemu] [--runs N] [--threads N] [--rounds N]
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
    ap.add_argument("--threads", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=20000)
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    args = ap.parse_args()
    backend = args.backend or default_backend()
    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp) / "thread_work"
        subprocess.run(["gcc", "-static", "-O2", "-pthread", "-o", str(prog),
                        str(REPO / "bench" / "thread_work.c")], check=True)
        work = [str(prog), str(args.threads), str(args.rounds)]
        native = measure(work, args.runs)
        utx = measure([args.utx_run, "--backend", backend, *work], args.runs)
    print(f"threads (backend {backend}, median of {args.runs}; {args.threads} create+join, "
          f"{args.rounds} ping-pong round trips)")
    for key, label in (("create_join_us", "pthread_create + join"),
                       ("pingpong_us", "futex ping-pong round trip")):
        print(f"  {label:28s} native {native[key]:9.2f} us   utx {utx[key]:9.2f} us   "
              f"utx/native {utx[key] / native[key]:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
