#!/usr/bin/python3
"""Network: redis-benchmark against the same static redis-server natively and under
utx-run, the round trip of a 64-byte TCP echo (server in the guest vs native), and VM exits
(hypercalls + NMIs, from utx-run --stats) per request.

  bench/net_bench.py [--backend kvm|qemu] [--requests N] [--clients N] [--rounds N]
                     [--utx-run PATH] [--redis PATH]

The redis-server is the one binary-analyzer/tests/build_redis.sh builds (default
build/redis-src/redis-server, built there if missing). It measures; it never judges. Under
the QEMU backend (no /dev/kvm) every hypercall is a round trip through QEMU's isa-debugcon
socket and utx-run's poll loop, and the guest runs under TCG: the ratios say little about KVM.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import default_backend

REPO = Path(__file__).resolve().parent.parent
STATS = re.compile(r"stats: (\d+) hypercalls, (\d+) NMIs")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv):
    return subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def finish(p, timeout=120):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    return out.decode(errors="replace"), err.decode(errors="replace")


def exits(stderr):
    m = STATS.search(stderr)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def echo_rtt(server_argv, client, port, rounds):
    """(median RTT in us, mean, server stderr) for one server run."""
    server = start(server_argv)
    if server.stdout.readline().strip() != b"ready":
        sys.exit(f"{server_argv}: no ready line: {finish(server)[1]}")
    r = subprocess.run([client, "client", str(port), str(rounds), "64"], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"echo client failed: {r.stderr}")
    values = dict(line.split() for line in r.stdout.splitlines())
    _, err = finish(server)
    return float(values["rtt_us"]), float(values["rtt_mean_us"]), err


def wait_ping(port, p, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            sys.exit(f"redis-server exited: {finish(p)[1]}")
        r = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            return
        time.sleep(0.2)
    sys.exit("redis-server did not answer")


def redis_rps(server_argv, port, requests, clients):
    """({test: requests per second}, server stderr)."""
    server = start(server_argv)
    wait_ping(port, server)
    r = subprocess.run(["redis-benchmark", "-q", "-p", str(port), "-n", str(requests), "-c",
                        str(clients), "-t", "set,get"], capture_output=True, text=True, timeout=3600)
    rps = {}
    for line in r.stdout.replace("\r", "\n").splitlines():
        m = re.match(r"^(\w+): ([\d.]+) requests per second", line.strip())
        if m:
            rps[m.group(1)] = float(m.group(2))
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
    _, err = finish(server)
    return rps, err


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5000)
    ap.add_argument("--utx-run", default=str(REPO / "build" / "loader" / "utx-run"))
    ap.add_argument("--redis", default=None)
    args = ap.parse_args()
    backend = args.backend or default_backend(args.utx_run)
    utx = [args.utx_run, "--backend", backend, "--stats"]

    with tempfile.TemporaryDirectory() as tmp:
        echo = Path(tmp) / "net_echo"
        subprocess.run(["gcc", "-static", "-O2", "-o", str(echo), str(REPO / "bench" / "net_echo.c")],
                       check=True)
        port = free_port()
        native_rtt, native_mean, _ = echo_rtt([echo, "server", port], echo, port, args.rounds)
        port = free_port()
        guest_rtt, guest_mean, err = echo_rtt([*utx, echo, "server", port], echo, port, args.rounds)
        hypercalls, nmis = exits(err)
    print(f"TCP echo of 64 bytes, server in the guest, client on the host (backend {backend}, "
          f"{args.rounds} round trips)")
    print(f"  native  median {native_rtt:8.1f} us  mean {native_mean:8.1f} us")
    print(f"  utx-run median {guest_rtt:8.1f} us  mean {guest_mean:8.1f} us  "
          f"({guest_rtt / native_rtt:.2f}x); {hypercalls} hypercalls + {nmis} NMIs = "
          f"{(hypercalls + nmis) / args.rounds:.2f} exits per round trip")

    redis = args.redis
    if not redis:
        build = subprocess.run([str(REPO / "binary-analyzer" / "tests" / "build_redis.sh"),
                                str(REPO / "build" / "redis-src")], capture_output=True, text=True)
        if build.returncode != 0:
            print(f"redis: skipped ({build.stderr.strip().splitlines()[-1:]})")
            return 0
        redis = build.stdout.strip().splitlines()[-1]
    server_args = ["--save", "", "--appendonly", "no"]
    port = free_port()
    native, _ = redis_rps([redis, "--port", port, *server_args], port, args.requests, args.clients)
    port = free_port()
    guest, err = redis_rps([*utx, "-p", f"{port}:6379", redis, *server_args], port,
                           args.requests, args.clients)
    hypercalls, nmis = exits(err)
    print(f"redis-benchmark -q -n {args.requests} -c {args.clients} -t set,get against the same "
          f"static redis-server (backend {backend})")
    for test in ("SET", "GET"):
        n, g = native.get(test, 0.0), guest.get(test, 0.0)
        ratio = g / n if n else 0.0
        print(f"  {test}: native {n:10.1f} req/s  utx-run {g:10.1f} req/s  ({ratio:.3f}x)")
    print(f"  utx-run: {hypercalls} hypercalls + {nmis} NMIs = "
          f"{(hypercalls + nmis) / (2 * args.requests):.2f} exits per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
