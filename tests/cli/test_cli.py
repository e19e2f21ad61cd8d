"""utx-run as a user sees it: exit statuses, one-line errors, --trace output, guests that
misbehave.

Environment:
  UTX_RUN   the utx-run binary (default <repo>/build/loader/utx-run)
"""

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UTX_RUN = Path(os.environ.get("UTX_RUN", REPO / "build" / "loader" / "utx-run"))
BUSYBOX = Path("/bin/busybox")
TIMEOUT = 60


# What utx-run's --backend auto picks here: "kvm", or "qemu: why not KVM".
WHICH_BACKEND = subprocess.run([str(UTX_RUN), "--which-backend"], capture_output=True,
                               text=True).stdout.strip()
KVM = WHICH_BACKEND == "kvm"
BACKEND = "kvm" if KVM else "qemu"
# PVM (kvm_pvm): /dev/kvm works, but --backend auto does not take it yet.
PVM = os.path.exists("/sys/module/kvm_pvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)


def run(*args, env=None, stdin=subprocess.DEVNULL):
    """Runs utx-run and checks what must hold for every run: it ended by itself (no signal,
    no C++ or Python crash text)."""
    assert UTX_RUN.exists(), f"{UTX_RUN} is not built"
    p = subprocess.run([str(UTX_RUN), *map(str, args)], capture_output=True, timeout=TIMEOUT,
                       env=env, stdin=stdin)
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode >= 0, f"utx-run died from signal {-p.returncode}: {stderr}"
    for crash in ("terminate called", "Traceback", "Assertion", "AddressSanitizer",
                  "core dumped"):
        assert crash not in stderr, stderr
    return p


def one_error_line(p, status):
    """The run failed with `status` and exactly one stderr line "utx-run: ..."; returns it."""
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == status, (p.returncode, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert stderr.endswith("\n"), stderr
    assert lines[0].startswith("utx-run: "), stderr
    assert p.stdout == b"", p.stdout
    return lines[0]


def gcc_static(tmp_path_factory, name, source):
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to build the test programs")
    d = tmp_path_factory.mktemp(name)
    src = d / f"{name}.c"
    src.write_text(source)
    out = d / name
    subprocess.run(["gcc", "-static", "-O1", "-o", str(out), str(src)], check=True,
                   timeout=TIMEOUT)
    return out


# ---------------------------------------------------------------- files utx-run cannot run

def test_missing_file(tmp_path):
    missing = tmp_path / "no-such-program"
    line = one_error_line(run(missing), 127)
    assert line == f"utx-run: {missing}: No such file or directory"


def test_directory(tmp_path):
    line = one_error_line(run(tmp_path), 126)
    assert str(tmp_path) in line
    assert "not a regular file" in line


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    f = tmp_path / "secret"
    f.write_bytes(BUSYBOX.read_bytes())
    f.chmod(0)
    line = one_error_line(run(f), 126)
    assert "Permission denied" in line


def test_text_file(tmp_path):
    f = tmp_path / "script.sh"
    f.write_text("#!/bin/sh\necho hello\n")
    assert one_error_line(run(f), 126) == f"utx-run: {f}: not an ELF file"


def test_empty_file(tmp_path):
    f = tmp_path / "empty"
    f.write_bytes(b"")
    assert one_error_line(run(f), 126) == f"utx-run: {f}: not an ELF file"


@pytest.mark.parametrize("size", [64, 1000])
def test_truncated_busybox(tmp_path, size):
    f = tmp_path / f"busybox-{size}"
    f.write_bytes(BUSYBOX.read_bytes()[:size])
    line = one_error_line(run(f), 126)
    assert line.startswith(f"utx-run: {f}: truncated"), line


def test_truncated_busybox_header(tmp_path):
    f = tmp_path / "busybox-40"
    f.write_bytes(BUSYBOX.read_bytes()[:40])
    line = one_error_line(run(f), 126)
    assert "truncated ELF header" in line


def elf64_header(machine, elf_class=2, data=1, e_type=2):
    """A 64-byte ELF header with no program headers beyond what the checks reach first."""
    ident = b"\x7fELF" + bytes([elf_class, data, 1]) + bytes(9)
    rest = (e_type.to_bytes(2, "little") + machine.to_bytes(2, "little")
            + (1).to_bytes(4, "little") + bytes(8 * 3 + 4)
            + (64).to_bytes(2, "little") + (56).to_bytes(2, "little")
            + (1).to_bytes(2, "little") + bytes(6))
    header = ident + rest
    assert len(header) == 64
    return header + bytes(4096)


def test_foreign_elf_names_the_architecture(tmp_path):
    f = tmp_path / "arm-prog"
    f.write_bytes(elf64_header(machine=183))  # EM_AARCH64
    line = one_error_line(run(f), 126)
    assert "aarch64" in line
    assert str(f) in line


def test_32bit_elf(tmp_path):
    f = tmp_path / "prog32"
    f.write_bytes(elf64_header(machine=3, elf_class=1))
    line = one_error_line(run(f), 126)
    assert "32-bit" in line


def test_big_endian_elf(tmp_path):
    f = tmp_path / "progbe"
    f.write_bytes(elf64_header(machine=62, data=2))
    assert "big-endian" in one_error_line(run(f), 126)


def test_relocatable_object(tmp_path):
    f = tmp_path / "prog.o"
    f.write_bytes(elf64_header(machine=62, e_type=1))
    assert "not an executable" in one_error_line(run(f), 126)


def test_dynamically_linked():
    true = Path("/bin/true")
    if b"ld-linux" not in true.read_bytes()[:4096]:
        pytest.skip("/bin/true is not dynamically linked here")
    line = one_error_line(run(true), 126)
    assert re.search(r"dynamically linked .*not supported yet", line), line


# ---------------------------------------------------------------- the command line

def test_unknown_option():
    line = one_error_line(run("--bogus", BUSYBOX, "true"), 2)
    assert "--bogus" in line


def test_no_program():
    assert "no program" in one_error_line(run(), 2)


@pytest.mark.parametrize("value", ["lots", "16M", "1.5G", "0"])
def test_bad_memory_size(value):
    line = one_error_line(run("-m", value, BUSYBOX, "true"), 2)
    assert f"invalid memory size '{value}'" in line


def test_missing_memory_value():
    assert "needs a value" in one_error_line(run("-m"), 2)


def test_bad_environment_entry():
    line = one_error_line(run("-e", "NOEQUALS", BUSYBOX, "true"), 2)
    assert "NOEQUALS" in line


@pytest.mark.parametrize("value", ["0", "65", "two", "2x", ""])
def test_bad_cpu_count(value):
    line = one_error_line(run("-c", value, BUSYBOX, "true"), 2)
    assert f"invalid CPU count '{value}'" in line


@pytest.mark.parametrize("value", ["0", "4097", "many", "-1", ""])
def test_bad_pids(value):
    line = one_error_line(run("--pids", value, BUSYBOX, "true"), 2)
    assert f"invalid process limit '{value}'" in line


def test_bogus_backend():
    line = one_error_line(run("--backend", "bogus", BUSYBOX, "true"), 2)
    assert "bogus" in line


@pytest.mark.parametrize("value", ["lan", "", "LOOPBACK", "none,host"])
def test_bad_network_mode(value):
    line = one_error_line(run("--net", value, BUSYBOX, "true"), 2)
    assert f"unknown network mode '{value}'" in line and "none, loopback or host" in line


@pytest.mark.parametrize("value", ["80", "8080:", "0:80", "70000:80", "x:80", "localhost:80:80",
                                   "[127.0.0.1]:80:80", "1:2:3:4", "[::1:80:80"])
def test_bad_published_port(value):
    line = one_error_line(run("-p", value, BUSYBOX, "true"), 2)
    assert f"invalid -p '{value}'" in line


def test_published_port_without_network():
    line = one_error_line(run("--net", "none", "-p", "8080:80", BUSYBOX, "true"), 2)
    assert "-p publishes nothing with --net none" in line


def test_missing_network_values():
    assert "needs a value" in one_error_line(run("--net"), 2)
    assert "needs a value" in one_error_line(run("-p"), 2)


def test_stats_counts_exits():
    p = run("--stats", BUSYBOX, "true")
    assert p.returncode == 0, p.stderr
    assert re.search(rb"^utx-run: stats: \d+ hypercalls, \d+ NMIs", p.stderr, re.M), p.stderr


def test_help():
    p = run("--help")
    assert p.returncode == 0
    assert p.stdout.decode().startswith("usage: utx-run")
    assert p.stderr == b""


def test_version():
    p = run("--version")
    assert p.returncode == 0
    assert p.stdout.decode().startswith("utx-run ")


def test_kvm_backend_without_kvm():
    if KVM or PVM:
        pytest.skip("/dev/kvm is usable here")
    line = one_error_line(run("--backend", "kvm", BUSYBOX, "true"), 125)
    assert "/dev/kvm" in line


def test_which_backend_says_what_auto_picks():
    assert WHICH_BACKEND == "kvm" or WHICH_BACKEND.startswith("qemu: /dev/kvm "), WHICH_BACKEND
    # kvm_pvm may be loaded while the host gives this machine no /dev/kvm: then the reason
    # is the missing device, and PVM is named only when the device is there.
    if os.path.exists("/sys/module/kvm_pvm") and os.path.exists("/dev/kvm"):
        assert "PVM" in WHICH_BACKEND


def test_kvm_backend_on_pvm_runs_the_kernel_as_a_pvm_guest():
    if not PVM:
        pytest.skip("NOT A PVM HOST: no kvm_pvm here, nothing to check")
    p = run("--backend", "kvm", "--stats", BUSYBOX, "sh", "-c", "echo on pvm; exit 3")
    assert p.returncode == 3, p.stderr
    assert p.stdout == b"on pvm\n"
    assert b"KVM exits" in p.stderr
    # The kernel's pages are user pages there: no isolation to offer.
    line = one_error_line(run("--backend", "kvm", "--isolate", BUSYBOX, "true"), 2)
    assert "--isolate" in line and "PVM" in line


def test_default_backend_without_kvm_falls_back_with_a_notice():
    if KVM:
        pytest.skip("/dev/kvm is usable here: no fallback")
    p = run(BUSYBOX, "echo", "fallback works")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"fallback works\n"
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("utx-run: notice: ")
    assert "/dev/kvm" in lines[0] and "QEMU" in lines[0]


def test_program_args_and_environment_reach_the_guest():
    p = run("--backend", BACKEND, "--clear-env", "-e", "GREETING=hi there", BUSYBOX, "sh", "-c",
            'echo "$GREETING" "$#" "$1"', "sh", "--trace")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"hi there 1 --trace\n"


def test_exit_status_passes_through():
    p = run("--backend", BACKEND, BUSYBOX, "sh", "-c", "exit 42")
    assert p.returncode == 42, p.stderr
    assert p.stderr == b""


# ---------------------------------------------------------------- --trace

def test_trace_echo():
    p = run("--backend", BACKEND, "--trace", BUSYBOX, "echo", "hi")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"hi\n"
    stderr = p.stderr.decode()
    assert re.search(r'^\[pid 1\] write\(1, "hi\\n", 3\) = 3$', stderr, re.M), stderr
    m = re.search(r"^utx-run: (\d+) system calls$", stderr, re.M)
    assert m, stderr
    # At least the write and the exit_group, and one line traced per call counted.
    assert int(m.group(1)) >= 2
    traced = [l for l in stderr.splitlines() if re.match(r"^\[pid \d+\] [a-z_0-9]+\(.*\) = ", l)]
    assert len(traced) == int(m.group(1)), stderr
    # And the exits, as --stats counts them: at least the write's hypercall.
    m = re.search(r"^utx-run: stats: (\d+) hypercalls, \d+ NMIs", stderr, re.M)
    assert m and int(m.group(1)) >= 1, stderr


def test_trace_reports_a_childs_fault():
    """A child's fault is its parent's to report (the shell's "Segmentation fault"), and
    only --trace adds utx-run's own line for it, naming the child's pid."""
    fault = Path(os.environ.get("UTX_COMPAT_BIN", REPO / "build" / "compat-tests" / "bin"),
                 "glibc-static", "fault_null")
    assert fault.exists(), f"{fault} is not built"
    script = "/fault_null; echo status $?"
    quiet = run("--backend", BACKEND, "--copy", f"{fault}:/fault_null", BUSYBOX, "sh", "-c", script)
    assert quiet.returncode == 0 and quiet.stdout.endswith(b"status 139\n"), quiet.stderr
    assert b"utx-run: pid" not in quiet.stderr, quiet.stderr
    traced = run("--backend", BACKEND, "--trace", "--copy", f"{fault}:/fault_null", BUSYBOX,
                 "sh", "-c", script)
    assert traced.returncode == 0, traced.stderr
    assert re.search(rb"^utx-run: pid 2: Segmentation fault \(signal 11\) at address 0x0, "
                     rb"rip 0x[0-9a-f]+$", traced.stderr, re.M), traced.stderr


def test_trace_lists_paths_not_found_with_host_hints(tmp_path):
    shared = tmp_path / "app.conf"
    shared.write_text("x\n")
    p = run("--backend", BACKEND, "--trace", "-w", "/tmp", BUSYBOX, "cat", str(shared),
            str(tmp_path / "absent"), "../tmp/./rel", str(shared))
    assert p.returncode == 1, p.stderr
    lines = p.stderr.decode().splitlines()
    header = "utx-run: paths the program looked up and did not find:"
    assert header in lines, p.stderr
    report = [l for l in lines[lines.index(header) + 1:] if l.startswith("utx-run:   ")]
    assert report == [
        f"utx-run:   {shared} (the host has it: add -v {shared}:{shared})",
        f"utx-run:   {tmp_path / 'absent'}",
        "utx-run:   /tmp/rel",
    ], p.stderr
    # Shared as the hint says, the file is found.
    p = run("--backend", BACKEND, "--trace", "-v", f"{shared}:{shared}", BUSYBOX, "cat",
            str(shared))
    assert p.returncode == 0 and p.stdout == b"x\n", p.stderr
    assert header not in p.stderr.decode()


def test_no_trace_output_without_trace():
    p = run("--backend", BACKEND, BUSYBOX, "echo", "hi")
    assert p.returncode == 0
    assert p.stdout == b"hi\n"
    assert "write(" not in p.stderr.decode()
    assert "system calls" not in p.stderr.decode()


def _missing_syscall():
    """An x86-64 syscall that syscalls.def lists as missing, with its name."""
    table = (REPO / "syscall-shim" / "syscalls.def").read_text()
    for preferred in ("io_pgetevents", "pkey_alloc", "msync"):
        m = re.search(rf"^SYSCALL\(\s*(\d+),\s*-?\d+,\s*{preferred},\s*none,\s*missing,", table,
                      re.M)
        if m:
            return int(m.group(1)), preferred
    pytest.fail("no missing syscall found in syscalls.def")


@pytest.fixture(scope="module")
def enosys_program(tmp_path_factory):
    nr, name = _missing_syscall()
    source = f"""
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {{
    long r = syscall({nr}, 0, 0, 0, 0, 0, 0);
    printf("%ld %d\\n", r, r < 0 ? errno : 0);
    return 0;
}}
"""
    return gcc_static(tmp_path_factory, "enosys", source), nr, name


def test_trace_reports_unimplemented_syscall(enosys_program):
    prog, nr, name = enosys_program
    p = run("--backend", BACKEND, "--trace", prog)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"-1 {38}\n".encode()  # ENOSYS
    stderr = p.stderr.decode()
    lines = stderr.splitlines()
    assert "utx-run: not implemented (ENOSYS):" in lines, stderr
    summary = lines[lines.index("utx-run: not implemented (ENOSYS):") + 1:]
    assert f"utx-run:   {name} ({nr}) x1" in summary, stderr


def test_unimplemented_syscall_without_trace_is_silent(enosys_program):
    prog, _, _ = enosys_program
    p = run("--backend", BACKEND, prog)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"-1 38\n"
    assert p.stderr == b""


# ---------------------------------------------------------------- guests that misbehave

SEGV_REPORT = re.compile(r"^utx-run: (?P<prog>.+): Segmentation fault \(signal 11\) "
                         r"at address 0x[0-9a-f]+, rip 0x(?P<rip>[0-9a-f]+)$")


@pytest.mark.parametrize("name,body", [
    ("outb", 'asm volatile("outb %%al, $0x80" :: "a"(0));'),
    ("hlt", 'asm volatile("hlt");'),
    ("cli", 'asm volatile("cli");'),
    ("null", '*(volatile int*)0 = 1;'),
])
def test_privileged_or_faulting_guest_is_killed_with_sigsegv(tmp_path_factory, name, body):
    source = f"""
#include <stdio.h>
int main(void) {{
    puts("before");
    fflush(stdout);
    {body}
    puts("after");
    return 0;
}}
"""
    prog = gcc_static(tmp_path_factory, name, source)
    native = subprocess.run([str(prog)], capture_output=True, timeout=TIMEOUT)
    assert native.returncode == -signal.SIGSEGV  # the same program natively, as a reference
    p = run("--backend", BACKEND, prog)
    assert p.returncode == 128 + signal.SIGSEGV, p.stderr
    assert p.stdout == b"before\n"
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    m = SEGV_REPORT.match(lines[0])
    assert m, lines[0]
    assert m.group("prog") == str(prog)
    # The reported rip is inside the program's text, not in the kernel.
    assert int(m.group("rip"), 16) < 0x8000_0000_0000


# ---------------------------------------------------------------- an idle guest is free

SLEEPER = r"""
#include <time.h>
int main(void) { struct timespec t = {1, 0}; return nanosleep(&t, 0); }
"""


@pytest.mark.parametrize("cpus", ["1", "4"])
def test_sleeping_guest_costs_the_host_no_cpu(tmp_path_factory, cpus):
    """A guest in nanosleep halts its vCPUs, the idle ones too: the host's own accounting
    (utx-run and its reaped children, e.g. QEMU) shows far less CPU time than the second
    it sleeps, with one vCPU or four."""
    import resource

    prog = gcc_static(tmp_path_factory, "sleeper", SLEEPER)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = run("--backend", BACKEND, "-c", cpus, prog)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert p.returncode == 0, p.stderr
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"1 s of guest sleep cost {cpu:.3f} s of host CPU")
    assert cpu < 0.5, f"the sleeping guest used {cpu:.3f} s of host CPU"


STDIN_READER = r"""
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static void *reader(void *arg) {
    char buf[64];
    *(long *)arg = read(0, buf, sizeof buf);
    return 0;
}
int main(void) {
    long got = -2;
    pthread_t t;
    pthread_create(&t, 0, reader, &got);
    for (int i = 0; i < 50; i++) {  /* system calls while the reader waits for input */
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, 0);
        getppid();
    }
    printf("worker done\n");
    fflush(stdout);
    pthread_join(t, 0);
    printf("read %ld\n", got);
    return 0;
}
"""


@pytest.mark.parametrize("cpus", ["1", "2"])
def test_thread_blocked_on_stdin_lets_the_others_run(tmp_path_factory, cpus):
    """A thread waiting for utx-run's stdin waits inside the guest: the program's other
    threads go on making system calls meanwhile (the input comes only after they are done)."""
    prog = gcc_static(tmp_path_factory, "stdin_reader", STDIN_READER)
    p = subprocess.Popen([str(UTX_RUN), "--backend", BACKEND, "-c", cpus, str(prog)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    import threading

    watchdog = threading.Timer(TIMEOUT, p.kill)  # a stalled guest fails, never hangs
    watchdog.start()
    try:
        first = p.stdout.readline()  # until the other thread is done (or the watchdog)
        assert first == b"worker done\n", first
        p.stdin.write(b"x\n")
        p.stdin.close()
        rest = p.stdout.read()
        assert p.wait(timeout=TIMEOUT) == 0
        assert rest == b"read 2\n", rest
    finally:
        watchdog.cancel()
        p.kill()
        p.wait()


# ---------------------------------------------------------------- the guest's file system


def test_copy_and_workdir(tmp_path):
    """--copy puts host files and trees into the guest, -w sets the working directory."""
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "data.txt").write_text("copied data\n")
    (tree / "link").symlink_to("sub/data.txt")
    single = tmp_path / "single.txt"
    single.write_text("one file\n")
    p = run("--backend", BACKEND, "--copy", f"{tree}:/srv/tree", "--copy", f"{single}:/etc/one",
            "-w", "/srv/tree", "/bin/busybox", "cat", "sub/data.txt", "link", "/etc/one")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"copied data\ncopied data\none file\n"
    p = run("--backend", BACKEND, "-w", "/srv", "--copy", f"{tree}:/srv/tree", "/bin/busybox",
            "pwd")
    assert p.stdout == b"/srv\n", p.stderr


def test_guest_writes_stay_in_the_guest(tmp_path):
    """The program writes into its own file system: /tmp works, the host is untouched."""
    p = run("--backend", BACKEND, "/bin/busybox", "cp", "/etc/hostname", "/tmp/copy")
    assert p.returncode == 0, p.stderr
    p = run("--backend", BACKEND, "/bin/busybox", "ls", "/tmp")
    assert p.stdout == b"", "each run starts from a fresh file system"


@pytest.mark.parametrize("spec, message", [
    ("nocolon", "invalid --copy"),
    ("/etc/hostname:relative", "invalid --copy"),
    ("/nonexistent-utx-path:/x", "nonexistent-utx-path"),
    # Refused before boot: the kernel could not unpack a file below a file.
    ("/etc/hostname:/etc/passwd/x", "etc/passwd is not a directory"),
    # The kernel's reader would stop there and leave out the rest of the image.
    ("/etc/hostname:/TRAILER!!!", "TRAILER!!! is the name that ends the archive"),
    # The path is shown, but on one line.
    ("/etc/hostname:/a\nb/../c", "'..' in path"),
])
def test_bad_copy(spec, message):
    line = one_error_line(run("--backend", BACKEND, "--copy", spec, "/bin/busybox", "true"),
                          2 if "invalid" in message else 125)
    assert message in line


def test_bad_workdir():
    line = one_error_line(run("-w", "relative", "/bin/busybox", "true"), 2)
    assert "working directory" in line
    p = run("--backend", BACKEND, "-w", "/does/not/exist", "/bin/busybox", "true")
    assert p.returncode == 125 and p.stderr.count(b"\n") == 1, p.stderr
    assert b"working directory /does/not/exist: ENOENT" in p.stderr, p.stderr


FILL = r"""
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    static char block[1 << 16];
    memset(block, 7, sizeof block);
    int fd = open("/tmp/fill", O_CREAT | O_WRONLY, 0600);
    long total = 0, n;
    while ((n = write(fd, block, sizeof block)) > 0) total += n;
    printf("full after %ld MiB: %s\n", total >> 20, n < 0 && errno == ENOSPC ? "ENOSPC" : "?");
    close(fd);
    unlink("/tmp/fill");
    fd = open("/tmp/again", O_CREAT | O_WRONLY, 0600);
    printf("space is back: %s\n", write(fd, block, sizeof block) == sizeof block ? "yes" : "no");
    return 0;
}
"""


def test_full_file_system_is_enospc(tmp_path_factory):
    """minifs may take half of guest memory, like tmpfs: past it writes fail with ENOSPC,
    the guest lives on, and deleting gives the space back."""
    prog = gcc_static(tmp_path_factory, "fill", FILL)
    p = run("--backend", BACKEND, "-m", "64M", prog)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    assert lines[0].startswith("full after ") and lines[0].endswith(": ENOSPC"), p.stdout
    assert 20 <= int(lines[0].split()[2]) <= 32, p.stdout
    assert lines[1] == "space is back: yes", p.stdout


# ---------------------------------------------------------------- /proc and /dev links


def test_proc_files():
    p = run("--backend", BACKEND, "-m", "256M", "/bin/busybox", "cat", "/proc/self/status",
            "/proc/self/maps", "/proc/meminfo", "/proc/mounts")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "Name:\tbusybox\n" in out and "Pid:\t1\n" in out and "Umask:\t0022\n" in out
    assert "[stack]" in out and "[heap]" in out
    assert "MemTotal:         262144 kB\n" in out
    assert "minifs / minifs rw" in out
    p = run("--backend", BACKEND, "/bin/busybox", "readlink", "/proc/self/exe")
    assert p.stdout == b"/usr/bin/busybox\n" or p.stdout.endswith(b"busybox\n"), p.stdout
    p = run("--backend", BACKEND, "/bin/busybox", "cat", "/proc/self/cmdline")
    assert p.stdout == b"/bin/busybox\0cat\0/proc/self/cmdline\0", p.stdout


def test_dev_std_links_reopen_the_descriptors():
    p = subprocess.run([str(UTX_RUN), "--backend", BACKEND, "/bin/busybox", "sh", "-c",
                        "read line < /dev/stdin; echo \"got $line\" > /dev/stdout; "
                        "echo oops > /dev/stderr; echo three > /dev/fd/1"],
                       input=b"first line\n", capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"got first line\nthree\n"
    assert p.stderr == b"oops\n"


def test_terminal_is_seen_as_a_terminal():
    """Under a terminal (a pty from script(1)), isatty() in the guest is true, as natively."""
    if shutil.which("script") is None:
        pytest.skip("script(1) (bsdutils) is not installed")
    command = (f"{UTX_RUN} --backend {BACKEND} /bin/busybox sh -c "
               "'test -t 1 && echo tty || echo not-a-tty'")
    p = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True,
                       timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert p.stdout.replace(b"\r", b"") == b"tty\n", p
    piped = run("--backend", BACKEND, "/bin/busybox", "sh", "-c",
                "test -t 1 && echo tty || echo not-a-tty")
    assert piped.stdout == b"not-a-tty\n"


def test_dev_tty_is_the_terminal_or_enxio():
    """/dev/tty is utx-run's terminal; without one, opening it fails with ENXIO as natively."""
    if shutil.which("script") is None:
        pytest.skip("script(1) (bsdutils) is not installed")
    command = (f"{UTX_RUN} --backend {BACKEND} /bin/busybox sh -c "
               "'echo to-the-terminal > /dev/tty' > /dev/null")
    p = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True,
                       timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert b"to-the-terminal" in p.stdout, p
    piped = run("--backend", BACKEND, "/bin/busybox", "sh", "-c", "echo x > /dev/tty")
    assert piped.returncode == 1, piped.stderr
    assert piped.stderr.endswith(b"sh: can't create /dev/tty: No such device or address\n")
