"""redis-server, unmodified (a static musl build from Debian's source package), under
utx-run with -p: redis-cli's answers, a short redis-benchmark, SHUTDOWN NOSAVE and SIGTERM
ending it with the native exit status, a restart on the same port at once, and utx-analyze
calling the binary ready.

binary-analyzer/tests/build_redis.sh builds the server into UTX_REDIS_BUILD_DIR (cached
there; the test is skipped, loudly, when the source package cannot be fetched).

Environment: UTX_RUN, UTX_ANALYZE, UTX_REDIS_BUILD_DIR, UTX_BACKEND (kvm | qemu).
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UTX_RUN = Path(os.environ.get("UTX_RUN", REPO / "build" / "loader" / "utx-run"))
UTX_ANALYZE = Path(os.environ.get("UTX_ANALYZE", REPO / "build" / "binary-analyzer" / "utx-analyze"))
BUILD_DIR = Path(os.environ.get("UTX_REDIS_BUILD_DIR", REPO / "build" / "redis-src"))
BUILD_REDIS = REPO / "binary-analyzer" / "tests" / "build_redis.sh"
BUILD_TIMEOUT = 330
START_TIMEOUT = 60


def _backend():
    if os.environ.get("UTX_BACKEND"):
        return os.environ["UTX_BACKEND"]
    which = subprocess.run([str(UTX_RUN), "--which-backend"], capture_output=True, text=True)
    return "kvm" if which.stdout.strip() == "kvm" else "qemu"


BACKEND = _backend()
SERVER_ARGS = ["--save", "", "--appendonly", "no", "--daemonize", "no"]


@pytest.fixture(scope="module")
def redis_server():
    for tool in ("redis-cli", "redis-benchmark"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} not found (apt-get install redis-tools)")
    assert UTX_RUN.exists(), f"{UTX_RUN} is not built"
    try:
        run = subprocess.run([str(BUILD_REDIS), str(BUILD_DIR)], capture_output=True, text=True,
                             timeout=BUILD_TIMEOUT)
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


def cli(port, *args, timeout=30):
    r = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True,
                       text=True, timeout=timeout)
    return r.stdout.strip()


class Server:
    """redis-server natively or under utx-run, its log in a file."""

    def __init__(self, argv, log):
        self.log = log
        self.argv = [str(a) for a in argv]
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                        stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_ready(self, port):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.argv} exited {self.process.returncode}:\n{self.text()}")
            if cli(port, "ping") == "PONG":
                return
            time.sleep(0.2)
        pytest.fail(f"{self.argv} did not answer PING within {START_TIMEOUT} s:\n{self.text()}")

    def wait(self, timeout=60):
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.argv} did not end within {timeout} s:\n{self.text()}")

    def text(self):
        return Path(self.log).read_text(errors="replace")

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def under_utx(redis_server, host_port, log):
    return Server([UTX_RUN, "--backend", BACKEND, "-p", f"{host_port}:6379", redis_server,
                   *SERVER_ARGS], log)


def native(redis_server, port, log):
    return Server([redis_server, "--port", port, *SERVER_ARGS], log)


def stop_statuses(redis_server, tmp_path):
    """The native exit statuses after SHUTDOWN NOSAVE and after SIGTERM."""
    statuses = []
    for how in ("shutdown", "sigterm"):
        port = free_port()
        s = native(redis_server, port, tmp_path / f"native-{how}.log")
        try:
            s.wait_ready(port)
            if how == "shutdown":
                cli(port, "shutdown", "nosave")
            else:
                s.process.send_signal(signal.SIGTERM)
            statuses.append(s.wait())
        finally:
            s.kill()
    return statuses


def test_redis_under_utx(redis_server, tmp_path):
    shutdown_status, sigterm_status = stop_statuses(redis_server, tmp_path)
    port = free_port()
    server = under_utx(redis_server, port, tmp_path / "utx.log")
    try:
        server.wait_ready(port)
        assert cli(port, "set", "greeting", "hello utx") == "OK"
        assert cli(port, "get", "greeting") == "hello utx"
        assert [cli(port, "incr", "counter") for _ in range(3)] == ["1", "2", "3"]
        assert cli(port, "rpush", "list", "a", "b", "c") == "3"
        assert cli(port, "lrange", "list", "0", "-1").split() == ["a", "b", "c"]
        assert cli(port, "hset", "hash", "f1", "v1", "f2", "v2") == "2"
        assert cli(port, "hgetall", "hash").split() == ["f1", "v1", "f2", "v2"]
        assert cli(port, "expire", "greeting", "100") == "1"
        assert 0 < int(cli(port, "ttl", "greeting")) <= 100
        assert cli(port, "set", "short", "lived", "px", "300") == "OK"
        time.sleep(1)
        assert cli(port, "exists", "short") == "0"
        assert cli(port, "dbsize") == "4"
        bench = subprocess.run(["redis-benchmark", "-q", "-p", str(port), "-n", "1000", "-c", "10",
                                "-t", "set,get,incr,lpush,lpop"], capture_output=True, text=True,
                               timeout=300)
        assert bench.returncode == 0, bench.stderr
        lines = [l for l in bench.stdout.replace("\r", "\n").splitlines() if "requests per second" in l]
        assert len(lines) == 5, bench.stdout
        print("\n" + "\n".join(lines))
        assert cli(port, "get", "greeting") == "hello utx"
        cli(port, "shutdown", "nosave")
        assert server.wait() == shutdown_status, server.text()
        assert "ready to exit, bye bye" in server.text(), server.text()
    finally:
        server.kill()

    # At once on the same port: the listener was closed, the benchmark's connections may
    # linger in TIME_WAIT on the host, and redis's SO_REUSEADDR lets it bind anyway.
    restarted = under_utx(redis_server, port, tmp_path / "utx-again.log")
    try:
        restarted.wait_ready(port)
        assert cli(port, "dbsize") == "0"
        restarted.process.send_signal(signal.SIGTERM)
        assert restarted.wait() == sigterm_status, restarted.text()
        assert "Received SIGTERM scheduling shutdown" in restarted.text(), restarted.text()
    finally:
        restarted.kill()


def test_analyze_calls_it_ready(redis_server):
    r = subprocess.run([str(UTX_ANALYZE), str(redis_server)], capture_output=True, text=True,
                       timeout=120)
    verdict = r.stdout.strip().splitlines()[-1]
    assert r.returncode == 0 and verdict.startswith("verdict: ready"), r.stdout[-3000:]
    print(f"\n{verdict}")
