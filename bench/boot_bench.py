#!/usr/bin/python3
"""Boot-to-exit time and peak memory of `utx-run hello` against native `hello`.

Runs the glibc-static `hello` compat program natively and under utx-run, N times each
(interleaved, so that a change in machine load hits both alike), and prints the medians,
their ratio and the peak resident set size. It measures; it never judges.

  bench/boot_bench.py [--backend kvm|qemu] [--runs N] [--utx-run PATH] [--bin DIR]

Peak RSS, in KiB, comes from two sources:
- wait4()'s rusage: Linux reports max(the child's own peak, the peak of each child it has
  reaped), so for utx-run under the QEMU backend this covers QEMU too. Linux also carries
  the peak of the memory image a process had before execve, here this script's own
  (posix_spawn shares it), so these figures are upper bounds: the native hello's figure
  shows that floor;
- extra, untimed runs that sample VmHWM in /proc (a per-image peak, reset by execve) of
  utx-run and of its direct children (QEMU under that backend) while they run: this tells
  the two apart without the floor, but being sampled it is a lower bound.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from benchlib import default_backend

REPO = Path(__file__).resolve().parent.parent
EXPECTED_OUTPUT = b"Hello, world!\n"


def spawn(argv):
    """Starts argv with stdout and stderr on pipes and stdin on /dev/null."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    null = os.open(os.devnull, os.O_RDONLY)
    actions = [
        (os.POSIX_SPAWN_DUP2, null, 0),
        (os.POSIX_SPAWN_DUP2, out_w, 1),
        (os.POSIX_SPAWN_DUP2, err_w, 2),
    ]
    pid = os.posix_spawn(argv[0], argv, {"PATH": "/usr/bin:/bin"}, file_actions=actions)
    for fd in (null, out_w, err_w):
        os.close(fd)
    return pid, out_r, err_r


def read_all(fd):
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def finish(argv, pid, out_r, err_r):
    """Waits for pid; fails loudly (not an assertion on speed) if the run was wrong."""
    _, status, usage = os.wait4(pid, 0)
    stdout, stderr = read_all(out_r), read_all(err_r)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or stdout != EXPECTED_OUTPUT:
        sys.exit(
            f"boot_bench: {' '.join(argv)} did not run correctly: status {code}, "
            f"stdout {stdout[:200]!r}, stderr {stderr[:500]!r}"
        )
    return usage


def timed_run(argv):
    start = time.perf_counter()
    pid, out_r, err_r = spawn(argv)
    # hello's output is far below a pipe's capacity, so reading after the wait is safe.
    usage = finish(argv, pid, out_r, err_r)
    return time.perf_counter() - start, usage.ru_maxrss


def vm_hwm_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children_of(pid):
    found = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def sampled_run(argv):
    """An untimed run that polls VmHWM of utx-run and of its direct children."""
    pid, out_r, err_r = spawn(argv)
    own = children = 0
    while True:
        own = max(own, vm_hwm_kib(pid))
        for child in children_of(pid):
            children = max(children, vm_hwm_kib(child))
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            break  # exited; still a zombie, reaped by finish() for its status
        time.sleep(0.001)
    finish(argv, pid, out_r, err_r)
    return own, children


def describe(times):
    ms = [t * 1000 for t in times]
    return f"median {statistics.median(ms):8.2f} ms  (min {min(ms):.2f}, max {max(ms):.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["kvm", "qemu"])
    parser.add_argument("--runs", type=int, default=20, help="runs of each (default 20)")
    parser.add_argument("--utx-run", type=Path,
                        default=Path(os.environ.get("UTX_RUN", REPO / "build/loader/utx-run")))
    parser.add_argument("--bin", type=Path, help="compat programs directory",
                        default=Path(os.environ.get("UTX_COMPAT_BIN",
                                                    REPO / "build/compat-tests/bin")))
    options = parser.parse_args()
    options.backend = options.backend or default_backend(options.utx_run)

    hello = options.bin / "glibc-static" / "hello"
    for path, what in ((hello, "the compat program hello"), (options.utx_run, "utx-run")):
        if not path.is_file():
            sys.exit(f"boot_bench: {what} not found at {path}")
    if options.runs < 1:
        sys.exit("boot_bench: --runs must be at least 1")
    if options.runs < 20:
        print(f"note: {options.runs} runs; medians are meant over at least 20")

    native_argv = [str(hello)]
    utx_argv = [str(options.utx_run), "--backend", options.backend, str(hello)]
    native_times, utx_times, native_rss, utx_rss = [], [], [], []
    for _ in range(options.runs):
        seconds, rss = timed_run(native_argv)
        native_times.append(seconds)
        native_rss.append(rss)
        seconds, rss = timed_run(utx_argv)
        utx_times.append(seconds)
        utx_rss.append(rss)

    samples = [sampled_run(utx_argv) for _ in range(3)]
    ratio = statistics.median(utx_times) / statistics.median(native_times)
    print(f"boot-to-exit of {hello} ({options.runs} runs each, backend {options.backend})")
    print(f"  native        {describe(native_times)}")
    print(f"  utx-run       {describe(utx_times)}")
    print(f"  ratio utx-run / native (medians): {ratio:.1f}x")
    print("peak RSS, KiB")
    print(f"  native hello, wait4 rusage (floor: the spawner's)   {max(native_rss):8d}")
    print(f"  utx-run and its reaped children, wait4 rusage       {max(utx_rss):8d}")
    print(f"  utx-run itself, sampled VmHWM (lower bound)         {max(s[0] for s in samples):8d}")
    print(f"  its children (QEMU), sampled VmHWM (lower bound)    {max(s[1] for s in samples):8d}")


if __name__ == "__main__":
    main()
