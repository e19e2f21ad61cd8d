#!/usr/bin/python3
"""Processes: fork+exit+wait and fork+execve+wait latency, and pipe throughput between two
processes, native vs utx-run.

Builds bench/fork_work.c statically, runs it natively and under utx-run (median of --runs
each; the times are taken inside the program, so boot is not counted) and prints
microseconds, MB/s and the ratios utx/native. It measures; it never judges. fork is a VM
clone, which only our KVM VMM does (under the QEMU backend fork is ENOSYS), so the backend
is kvm wherever /dev/kvm exists, PVM included, unless --backend or UTX_BACKEND says
otherwise. On PVM every privileged instruction of the guest kernel and every VM exit
costs about 15 us, and creating a VM costs what kvm_pvm makes it cost: the figures there
are not those of hardware KVM.

  bench/fork_bench.py [--backend kvm] [--runs N] [--forks N] [--execs N] [--mib N]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import kvm_is_pvm, measure

REPO = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=os.environ.get("UTX_BACKEND", "kvm"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--forks", type=int, default=200)
    ap.add_argument("--execs", type=int, default=100)
    ap.add_argument("--mib", type=int, default=256, help="MiB sent through the pipe")
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    args = ap.parse_args()
    if args.backend != "kvm":
        sys.exit(f"fork_bench: fork needs the kvm backend (got {args.backend})")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("fork_bench: /dev/kvm is missing or not accessible: fork needs our KVM VMM")
    pvm = kvm_is_pvm()
    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp) / "fork_work"
        subprocess.run(["gcc", "-static", "-O2", "-o", str(prog),
                        str(REPO / "bench" / "fork_work.c")], check=True)
        cases = (("fork", args.forks, "fork_wait_us", "fork + _exit + wait", "us"),
                 ("exec", args.execs, "fork_exec_wait_us", "fork + execve + wait", "us"),
                 ("pipe", args.mib, "pipe_mb_s", f"pipe, {args.mib} MiB", "MB/s"))
        rows = []
        for mode, count, key, label, unit in cases:
            work = [prog, mode, count]
            native = measure(work, args.runs)[key]
            utx = measure([args.utx_run, "--backend", args.backend, *work], args.runs)[key]
            rows.append((label, unit, native, utx))
    where = "kvm on PVM (kvm_pvm)" if pvm else "kvm"
    print(f"processes (backend {where}, median of {args.runs}; times inside the program)")
    for label, unit, native, utx in rows:
        # For a time lower is better, for a throughput higher: the ratio is utx/native both
        # ways, so read it against the unit.
        print(f"  {label:22s} native {native:10.2f} {unit:4s}  utx {utx:10.2f} {unit:4s}  "
              f"utx/native {utx / native:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
