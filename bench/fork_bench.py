#!/usr/bin/python3
"""Processes: fork+exit+wait and fork+execve+wait latency, and pipe throughput between two
processes, native vs utx-run.

Builds bench/fork_work.c statically, runs it natively and under utx-run (median of --runs
each; the times are taken inside the program, so boot is not counted) and prints
microseconds, MB/s and the ratios utx/native. It measures; it never judges. fork is a VM
clone: our KVM VMM clones its VM, the QEMU backend migrates its VM into a new QEMU (with
one vCPU), so the backend is kvm wherever /dev/kvm exists, PVM included, and qemu
elsewhere, unless --backend or UTX_BACKEND says otherwise. On PVM every privileged
instruction of the guest kernel and every VM exit costs about 15 us, and creating a VM
costs what kvm_pvm makes it cost: the figures there are not those of hardware KVM. Under
QEMU each fork starts a QEMU process (about 70 ms here) and the guest is emulated.

  bench/fork_bench.py [--backend kvm|qemu] [--runs N] [--forks N] [--execs N] [--mib N]
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
    has_kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)
    ap.add_argument("--backend", choices=("kvm", "qemu"),
                    default=os.environ.get("UTX_BACKEND", "kvm" if has_kvm else "qemu"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--forks", type=int, default=200)
    ap.add_argument("--execs", type=int, default=100)
    ap.add_argument("--mib", type=int, default=256, help="MiB sent through the pipe")
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    args = ap.parse_args()
    if args.backend == "kvm" and not has_kvm:
        sys.exit("fork_bench: /dev/kvm is missing or not accessible (--backend qemu works)")
    pvm = args.backend == "kvm" and kvm_is_pvm()
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
    where = "kvm on PVM (kvm_pvm)" if pvm else args.backend
    print(f"processes (backend {where}, median of {args.runs}; times inside the program)")
    for label, unit, native, utx in rows:
        # For a time lower is better, for a throughput higher: the ratio is utx/native both
        # ways, so read it against the unit.
        print(f"  {label:22s} native {native:10.2f} {unit:4s}  utx {utx:10.2f} {unit:4s}  "
              f"utx/native {utx / native:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
