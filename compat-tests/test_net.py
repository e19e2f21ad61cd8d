"""Sockets: TCP and UDP over host sockets (both ends in the program, or one end here on the
host), AF_UNIX inside the guest, the --net policies and -p.

Where a program talks to a peer outside it, the test is that peer: it runs the program
natively, then under utx-run, plays the same part against both and compares what the
program printed and its exit status.
"""

import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (BACKEND, BASE_ENV, UTX_RUN, UTX_TIMEOUT, Result, assert_same,
                      expect_native, program, run_native, run_utx, shell_status)


# The programs run on one vCPU and on two (the QEMU backend's default is one, KVM's the
# host's core count): a thread waiting for a socket may sleep on either.
CPUS = pytest.mark.parametrize("cpus", ["1", "2"])


def check_on(flavor, name, args, cpus):
    prog = program(flavor, name)
    native = run_native(prog, args)
    expect_native(native)
    assert_same(native, run_utx(prog, args, options=["-c", cpus]))


@CPUS
def test_net_tcp_ipv4(flavor, cpus):
    """Both ends in the program: connect, accept, every send and receive call, options,
    shutdown, SIGPIPE, refused and timed-out connects, epoll edge cases, UDP."""
    check_on(flavor, "net_tcp", ["4"], cpus)


@CPUS
def test_net_tcp_ipv6(flavor, cpus):
    check_on(flavor, "net_tcp", ["6"], cpus)


@CPUS
def test_net_wait(flavor, cpus):
    """poll, ppoll, select, pselect6 and epoll over a socket, a pipe, an eventfd and a
    timerfd; waits ended by another thread; a blocking accept; FIONBIO; SO_REUSEPORT."""
    check_on(flavor, "net_wait", [], cpus)


@CPUS
def test_net_unix(flavor, cpus):
    """AF_UNIX socketpairs and named sockets, stream and datagram, within the process."""
    check_on(flavor, "net_unix", [], cpus)


def free_port(family=socket.AF_INET):
    with socket.socket(family) as s:
        s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        return s.getsockname()[1]


def host_address():
    """A non-loopback IPv4 address of this host, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet leaves: it only picks the route's source
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


class Background:
    """A program started in its own session, whose stdout lines the test reads as they come."""

    def __init__(self, argv, stdin=subprocess.DEVNULL):
        self.argv = [str(a) for a in argv]
        self.process = subprocess.Popen(self.argv, stdin=stdin, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=BASE_ENV,
                                        start_new_session=True)
        self.lines = []

    def readline(self, timeout=UTX_TIMEOUT):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()))
        reader.start()
        reader.join(timeout)
        if not result:
            self.kill()
            pytest.fail(f"no output from {self.argv} within {timeout} s")
        self.lines.append(result[0])
        return result[0]

    def finish(self, timeout=UTX_TIMEOUT):
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.argv} did not end within {timeout} s")
        return Result(self.argv, shell_status(self.process.returncode), b"".join(self.lines) + out, err)

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def utx(*args):
    return [UTX_RUN, "--backend", BACKEND, *args]


def echo_client(port, family=socket.AF_INET, host=None):
    """Connects, sends lines and a block, reads each echo back; the bytes sent."""
    host = host or ("::1" if family == socket.AF_INET6 else "127.0.0.1")
    with socket.create_connection((host, port), timeout=30) as s:
        sent = 0
        for i in range(20):
            line = b"host line %d\n" % i
            s.sendall(line)
            got = b""
            while len(got) < len(line):
                got += s.recv(len(line) - len(got))
            assert got == line
            sent += len(line)
        block = bytes(range(256)) * 1024
        s.sendall(block)
        got = b""
        while len(got) < len(block):
            chunk = s.recv(65536)
            assert chunk, "the server closed early"
            got += chunk
        assert got == block
        sent += len(block)
        s.shutdown(socket.SHUT_WR)
        assert s.recv(1) == b""
    return sent


def serve_once(argv, port, family=socket.AF_INET, connect_port=None):
    """Runs a tcp-server program, waits for its "listening" line, plays the client."""
    server = Background(argv)
    try:
        line = b""
        while line.endswith(b": ok\n") or not line:
            line = server.readline()
        assert line.startswith(b"listening on "), (line, server.finish().describe())
        assert echo_client(connect_port or port, family) == 20 * 12 + 10 + 256 * 1024
        return server.finish()
    finally:
        server.kill()


@CPUS
@pytest.mark.parametrize("mode", ["tcp-server", "tcp-server-busy"])
@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6], ids=["ipv4", "ipv6"])
def test_tcp_server_in_guest(flavor, family, mode, cpus):
    """The program listens (wildcard address), the host connects and gets its echo; the
    host's data wakes the waiting thread (with another thread computing: past it)."""
    prog = program(flavor, "net_peer")
    port = free_port(family)
    extra = ["6"] if family == socket.AF_INET6 else []
    native = serve_once([prog, mode, port, *extra], port, family)
    expect_native(native, stdout=None)
    guest = serve_once(utx("-c", cpus, prog, mode, port, *extra), port, family)
    assert_same(native, guest, compare_stderr=False)
    assert b"utx-run: " not in guest.stderr.replace(b"utx-run: notice:", b"")


class EchoServer:
    """A host TCP or UDP echo server (UDP answers reversed) on the loopback."""

    def __init__(self, kind):
        self.kind = kind
        if kind == "tcp":
            self.sock = socket.socket()
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", 0))
            self.sock.listen(4)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        if self.kind == "udp":
            while True:
                data, peer = self.sock.recvfrom(2048)
                if data == b"quit":
                    return
                self.sock.sendto(data[::-1], peer)
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

    def close(self):
        self.sock.close()


@CPUS
def test_tcp_client_in_guest(flavor, cpus):
    """The program connects to a host server and checks its echoes."""
    server = EchoServer("tcp")
    try:
        check_on(flavor, "net_peer", ["tcp-client", server.port], cpus)
    finally:
        server.close()


def test_udp_client_in_guest(flavor):
    prog = program(flavor, "net_peer")
    for run in ([prog], utx(prog)):
        server = EchoServer("udp")
        p = Background([*run, "udp-client", server.port])
        result = p.finish()
        server.thread.join(10)
        server.close()
        assert result.status == 0 and result.stdout == b"20 datagrams answered: ok\n", result.describe()


def udp_exchange(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(30)
        for i in range(10):
            msg = b"host datagram %d" % i
            s.sendto(msg, ("127.0.0.1", port))
            data, _ = s.recvfrom(2048)
            assert data == msg[::-1]
        s.sendto(b"quit", ("127.0.0.1", port))


def test_udp_server_in_guest(flavor):
    prog = program(flavor, "net_peer")
    results = []
    for run in ([prog], utx(prog)):
        port = free_port()
        server = Background([*run, "udp-server", port])
        try:
            assert server.readline() == b"bind: ok\n"
            assert server.readline() == b"ready\n"
            udp_exchange(port)
            results.append(server.finish())
        finally:
            server.kill()
    assert results[0].stdout == b"bind: ok\nready\nanswered 10 datagrams\n", results[0].describe()
    assert_same(results[0], results[1], compare_stderr=False)


@pytest.mark.parametrize("spec", ["{host}:{guest}", "127.0.0.1:{host}:{guest}", "[::1]:{host}:{guest}"],
                         ids=["ports", "ipv4-address", "ipv6-address"])
def test_publish(spec):
    """-p: the guest binds GUESTPORT, the host reaches it at HOSTPORT; getsockname in the
    guest still says GUESTPORT, on the listener and the accepted connection."""
    prog = program("glibc-static", "net_peer")
    family = socket.AF_INET6 if spec.startswith("[") else socket.AF_INET
    extra = ["6"] if family == socket.AF_INET6 else []
    guest_port, host_port = free_port(family), free_port(family)
    native = serve_once([prog, "tcp-server", guest_port, *extra], guest_port, family)
    mapping = spec.format(host=host_port, guest=guest_port)
    guest = serve_once(utx("-p", mapping, prog, "tcp-server", guest_port, *extra), guest_port,
                       family, connect_port=host_port)
    assert_same(native, guest, compare_stderr=False)
    assert b"port %d" % guest_port in guest.stdout


POLICY_EXPECTED = {
    "none": {
        "socket AF_INET": "EACCES", "socket AF_INET6": "EACCES", "socketpair AF_UNIX": "ok",
    },
    "loopback": {
        "socket AF_INET": "ok", "socket AF_INET6": "ok", "socketpair AF_UNIX": "ok",
        "connect to the loopback": "ok", "connect to the host's address": "ENETUNREACH",
        "bind the host's address": "EADDRNOTAVAIL", "bind the wildcard address": "ok",
        "sendto the host's address": "ENETUNREACH",
    },
    "host": {
        "socket AF_INET": "ok", "socket AF_INET6": "ok", "socketpair AF_UNIX": "ok",
        "connect to the loopback": "ok", "connect to the host's address": "ok",
        "bind the host's address": "ok", "bind the wildcard address": "ok",
        "sendto the host's address": "ok",
    },
}


@pytest.mark.parametrize("mode", ["none", "loopback", "host"])
def test_policy(mode):
    address = host_address()
    if address is None:
        pytest.skip("WARNING: this host has no non-loopback IPv4 address to test the policy with")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", 0))
    listener.listen(16)
    try:
        prog = program("glibc-static", "net_peer")
        args = ["policy", address, listener.getsockname()[1]]
        native = Background([prog, *args]).finish()
        expect_native(native, stdout=None, stderr=None)
        assert all(line.endswith(b": ok") or not b": " in line or line.startswith(b"getaddrinfo")
                   for line in native.stdout.splitlines()), native.describe()
        guest = Background(utx("--net", mode, prog, *args)).finish()
    finally:
        listener.close()
    assert guest.status == 0, guest.describe()
    lines = dict(line.split(": ", 1) for line in guest.stdout.decode().splitlines() if ": " in line)
    for label, expected in POLICY_EXPECTED[mode].items():
        assert lines.get(label) == expected, f"{label}: {lines.get(label)}\n{guest.describe()}"
    if mode != "none":
        assert "getsockname says 0.0.0.0" in guest.stdout.decode(), guest.describe()
    assert lines["getaddrinfo localhost"] == "127.0.0.1", guest.describe()


@pytest.mark.parametrize("mode", ["loopback", "host"])
def test_wildcard_listener_reach(mode):
    """Under --net loopback a listener on the wildcard address is reachable on the host's
    loopback only; under --net host on the host's other addresses too."""
    address = host_address()
    if address is None:
        pytest.skip("WARNING: this host has no non-loopback IPv4 address to test the policy with")
    p = Background(utx("--net", mode, program("musl-static", "net_peer"), "listen"),
                   stdin=subprocess.PIPE)
    try:
        line = p.readline()
        assert line.startswith(b"port "), line
        port = int(line.split()[1])
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
        if mode == "loopback":
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((address, port), timeout=10)
        else:
            socket.create_connection((address, port), timeout=10).close()
        p.process.stdin.close()
        p.process.stdin = None
        assert p.finish().status == 0
    finally:
        p.kill()


def test_name_lookup(flavor):
    """getaddrinfo of localhost (the root image's /etc/hosts, through nsswitch.conf for
    glibc) and of numeric addresses, with glibc's static resolver and musl's."""
    names = ["localhost", "127.0.0.1", "::1", "10.1.2.3", "fe80::1"]
    r = run_utx(program(flavor, "net_peer"), ["resolve", *names])
    assert r.status == 0, r.describe()
    lines = dict(line.split(": ", 1) for line in r.stdout.decode().splitlines())
    # glibc stops at the first line of /etc/hosts that names it, musl takes both.
    found = set(lines["localhost"].split())
    assert "127.0.0.1/80" in found and found <= {"127.0.0.1/80", "::1/80"}, r.describe()
    assert lines["127.0.0.1"] == "127.0.0.1/80", r.describe()
    assert lines["::1"] == "::1/80", r.describe()
    assert lines["10.1.2.3"] == "10.1.2.3/80", r.describe()
    assert lines["fe80::1"] == "fe80::1/80", r.describe()
