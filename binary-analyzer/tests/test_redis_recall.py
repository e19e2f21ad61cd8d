"""Recall of utx-analyze on a static redis-server (musl) under a redis-benchmark load.

build_redis.sh builds redis-server from Debian's redis source package into
UTX_REDIS_BUILD_DIR (cached there; skipped with its reason when the source cannot be had).
The server runs on a loopback port under `strace -f` while redis-benchmark, a BGSAVE and
a few commands run against it, and stops with `SHUTDOWN NOSAVE`. Every syscall strace saw
must be in the analyzer's set (recall 100%); the resolution share must be at least 95%.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from strace_recall import (analyze_json, assert_recall, describe_resolution, strace_command,
                           syscalls_of)

HERE = Path(__file__).resolve().parent
BUILD_DIR = Path(os.environ.get("UTX_REDIS_BUILD_DIR", HERE.parents[1] / "build-analyzer/redis-src"))
BUILD_TIMEOUT = 330


@pytest.fixture(scope="module")
def redis_server():
    try:
        run = subprocess.run([str(HERE / "build_redis.sh"), str(BUILD_DIR)], capture_output=True,
                             text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"build_redis.sh took more than {BUILD_TIMEOUT} s")
    print(run.stderr, end="")
    if run.returncode == 77:
        reason = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "build_redis.sh: skip"
        print(f"\nWARNING: SKIPPED: {reason}")
        pytest.skip(reason)
    assert run.returncode == 0, f"build_redis.sh failed ({run.returncode}):\n{run.stderr[-4000:]}"
    return Path(run.stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args, timeout=20):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=timeout)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def test_redis_server_under_benchmark(redis_server, tmp_path):
    for tool in ("redis-benchmark", "redis-cli", "strace"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} not found (apt-get install redis-tools strace)")
    start = time.perf_counter()
    report = analyze_json(redis_server)
    elapsed = time.perf_counter() - start
    print(f"\n{describe_resolution(str(redis_server), report)}; analyzed in {elapsed:.2f} s")

    port = free_port()
    trace = tmp_path / "redis.strace"
    argv = [str(redis_server), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
            "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
            "--daemonize", "no", "--logfile", str(tmp_path / "redis.log")]
    server = subprocess.Popen(strace_command(trace, argv), cwd=tmp_path, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: server.poll() is not None or cli(port, "ping").stdout.strip() == "PONG",
                   30, "redis-server to answer PING")
        assert server.poll() is None, f"redis-server exited: {server.stderr.read()!r}"
        bench = subprocess.run(["redis-benchmark", "-q", "-n", "2000", "-c", "10", "-p", str(port),
                                "-t", "set,get,incr,lpush,lpop"], capture_output=True, text=True,
                               timeout=120)
        assert bench.returncode == 0, bench.stderr
        print(bench.stdout.replace("\r", "\n").strip().splitlines()[-1])
        assert cli(port, "bgsave").returncode == 0
        wait_until(lambda: "rdb_bgsave_in_progress:0" in cli(port, "info", "persistence").stdout,
                   30, "BGSAVE to finish")
        for command in (["dbsize"], ["config", "set", "maxmemory", "100mb"], ["bgrewriteaof"],
                        ["info"], ["flushall"]):
            assert cli(port, *command).returncode == 0, command
        cli(port, "shutdown", "nosave")
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    seen = syscalls_of(trace.read_text(errors="replace"), redis_server)
    assert {"accept4", "fork", "clone", "fdatasync"} <= seen, f"a thin trace: {sorted(seen)}"
    assert_recall("redis-server under redis-benchmark", seen, report)
    print(f"strace saw {len(seen)} distinct syscalls of redis-server, all reported")
    assert report["resolution"]["share"] >= 0.95
