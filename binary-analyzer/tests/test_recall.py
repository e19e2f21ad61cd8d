"""Recall of utx-analyze against strace, and the CLI's error paths.

Every syscall strace sees a binary make while running a workload natively must be in
the set utx-analyze reports for that binary (recall 100%). The share of syscall sites
whose number was resolved is printed, and must be at least 95% for glibc and musl
static binaries.
"""
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from strace_recall import ANALYZE, analyze_json, assert_recall, describe_resolution, traced_syscalls

HERE = Path(__file__).resolve().parent
BUSYBOX = "/bin/busybox"
BASH_STATIC = "/bin/bash-static"
PROGRAMS = ["files", "process", "threads"]
COMPAT_BIN = os.environ.get("UTX_COMPAT_BIN")
COMPAT_FLAVORS = ["glibc-static", "glibc-static-pie", "musl-static"]
# compat-tests/CMakeLists.txt (UTX_COMPAT_PROGRAMS) with the arguments, stdin and exit
# status of a representative run; fault_null dies of SIGSEGV, which strace passes on.
COMPAT_RUNS = {
    "args_env": (["one", "two words"], b"", (0,)),
    "brk": ([], b"", (0,)),
    "cat": ([], b"".join(b"%d\n" % i for i in range(1, 20001)), (0,)),
    "clock": ([], b"", (0,)),
    "close_range": ([], b"", (0,)),
    "exit_code": (["42"], b"", (42,)),
    "fault_null": ([], b"", (-11, 139)),
    "fd_copy": ([], b"", (0,)),
    "fd_errors": ([], b"some input", (0,)),
    "fd_wait": ([], b"", (0,)),
    "fileio_vec": ([], b"", (0,)),
    "fs_space": ([], b"", (0,)),
    "getrandom": ([], b"", (0,)),
    "hello": ([], b"", (0,)),
    "locks": ([], b"queued", (0,)),
    "malloc": ([], b"", (0,)),
    "memset_200m": ([], b"", (0,)),
    "mmap": ([], b"", (0,)),
    "mmap_shared": ([], b"", (0,)),
    "nanosleep": ([], b"", (0,)),
    "openat2": ([], b"", (0,)),
    "pids": ([], b"", (0,)),
    "prctl": ([], b"", (0,)),
    "readlink_exe": ([], b"", (0,)),
    "sched": ([], b"", (0,)),
    "sigaction": ([], b"", (0,)),
    "signalfd": ([], b"", (0,)),
    "signals": ([], b"", (0,)),
    "smp": ([], b"", (0,)),
    "posix_timers": ([], b"", (0,)),
    "sysinfo": ([], b"", (0,)),
    "threads": ([], b"", (0,)),
    "thread_stress": ([], b"", (0,)),
    "tls": ([], b"", (0,)),
    "uname": ([], b"", (0,)),
}


def check_recall(binary, workloads, tmp_path, min_share=None):
    """Each workload is an argv, or (argv, stdin bytes) for programs that read stdin."""
    report = analyze_json(binary)
    share = report["resolution"]["share"]
    print("\n" + describe_resolution(str(binary), report))
    for i, workload in enumerate(workloads):
        argv, stdin = (workload, None) if isinstance(workload, list) else workload
        seen = traced_syscalls(argv, tmp_path, f"w{i}", binary=binary, input=stdin)
        assert_recall(str(argv), seen, report)
    if min_share is not None:
        assert share >= min_share, f"resolution share {share:.1%} below {min_share:.0%}"
    return report


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("programs")
    binaries = {}
    for name in PROGRAMS:
        source = HERE / "programs" / f"{name}.c"
        for flavor, cc in (("glibc", "gcc"), ("musl", "musl-gcc")):
            if not shutil.which(cc):
                continue
            target = out / f"{name}-{flavor}"
            subprocess.run([cc, "-O2", "-static", "-pthread", str(source), "-o", str(target)], check=True)
            binaries[(name, flavor)] = target
        target = out / f"{name}-dynamic"
        subprocess.run(["gcc", "-O2", "-pthread", str(source), "-o", str(target)], check=True)
        binaries[(name, "dynamic")] = target
    return binaries


def test_busybox_applets(tmp_path):
    if not os.path.exists(BUSYBOX):
        pytest.skip("no /bin/busybox")
    data = tmp_path / "data"
    data.write_bytes(os.urandom(100000))
    workloads = [
        [BUSYBOX, "echo", "hello"],
        [BUSYBOX, "seq", "1", "20"],
        [BUSYBOX, "sha256sum", str(data)],
        [BUSYBOX, "ls", "-la", "/"],
        [BUSYBOX, "sh", "-c", "echo a | wc -c"],
        [BUSYBOX, "sh", "-c", f"cat {data} > {tmp_path}/copy; cmp {data} {tmp_path}/copy && rm {tmp_path}/copy"],
    ]
    check_recall(BUSYBOX, workloads, tmp_path, min_share=0.95)


BASH_SCRIPT = r"""
set -u
bb=/bin/busybox
out=$(mktemp "$WORKDIR/bash-recall.XXXXXX")
square() { local n=$1; echo $((n * n)); }
total=0
for i in $(seq 1 30); do
    total=$((total + $(square "$i")))
    if (( i % 10 == 0 )); then echo "at $i: $total" >> "$out"; fi
done
while read -r line; do echo "read: $line"; done < "$out"
$bb seq 1 200 | $bb sort -rn | $bb head -n 5 | $bb tr '\n' ' ' > "$out.pipe"
echo >> "$out.pipe"
words=$($bb wc -w < "$out.pipe")
cat > "$out.heredoc" <<EOT
words=$words total=$total
EOT
exec 3< "$out.heredoc"; read -r first <&3; exec 3<&-
( cd "$WORKDIR" && echo "files: $(echo *.pipe)" ) 2>/dev/null
sleep 0.05 & wait $!
trap 'echo trapped' USR1; kill -USR1 $$
case "$first" in words=5*) echo "ok: $first" ;; *) echo "bad: $first"; exit 1 ;; esac
rm -f "$out" "$out.pipe" "$out.heredoc"
"""


def test_bash_static_script(tmp_path):
    if not os.path.exists(BASH_STATIC):
        pytest.skip(f"no {BASH_STATIC} (apt-get install bash-static)")
    script = tmp_path / "script.sh"
    script.write_text(BASH_SCRIPT)
    env_script = ["/usr/bin/env", f"WORKDIR={tmp_path}", "PATH=/usr/bin:/bin"]
    # env execs bash-static: the attribution keeps bash's own syscalls only, not those of
    # env, the busybox applets or the external commands (mktemp, seq, cat, sleep, rm).
    workloads = [
        env_script + [BASH_STATIC, str(script)],
        [BASH_STATIC, "-c", "echo $((6 * 7)) | /bin/busybox cat > /dev/null; ls / > /dev/null"],
        ([BASH_STATIC, "-i"], b"echo interactive\nx=$(pwd)\nexit 3\n"),
    ]
    report = analyze_json(BASH_STATIC)
    print("\n" + describe_resolution(BASH_STATIC, report))
    for i, workload in enumerate(workloads):
        argv, stdin = (workload, None) if isinstance(workload, list) else workload
        seen = traced_syscalls(argv, tmp_path, f"bash{i}", binary=BASH_STATIC, input=stdin,
                               statuses=(0, 3))
        assert_recall(str(argv), seen, report)
    assert report["resolution"]["share"] >= 0.95


@pytest.fixture(scope="module")
def compat_bin():
    if not COMPAT_BIN or not os.path.isdir(COMPAT_BIN):
        message = (f"UTX_COMPAT_BIN={COMPAT_BIN!r} is not a directory: the compat-tests programs "
                   "were not built (cmake --build <build> --target compat_programs)")
        print(f"\nWARNING: SKIPPED: {message}")
        pytest.skip(message)
    return Path(COMPAT_BIN)


@pytest.mark.parametrize("flavor", COMPAT_FLAVORS)
def test_compat_programs(compat_bin, tmp_path, flavor):
    missing = [name for name in COMPAT_RUNS if not (compat_bin / flavor / name).exists()]
    if len(missing) == len(COMPAT_RUNS):
        print(f"\nWARNING: SKIPPED: no {flavor} programs in {compat_bin}")
        pytest.skip(f"no {flavor} programs in {compat_bin}")
    assert not missing, f"{flavor}: not built: {missing}"
    sites = resolved = 0
    failures = []
    for name, (args, stdin, statuses) in COMPAT_RUNS.items():
        binary = compat_bin / flavor / name
        report = analyze_json(binary)
        sites += report["resolution"]["sites"]
        resolved += report["resolution"]["resolved"]
        seen = traced_syscalls([str(binary), *args], tmp_path, f"{flavor}-{name}",
                               input=stdin, statuses=statuses)
        missed = seen - {s["name"] for s in report["syscalls"] if s["name"]}
        if missed:
            failures.append(f"{name}: strace saw {sorted(missed)} which the analyzer did not report")
    share = resolved / sites
    print(f"\ncompat-tests {flavor}: {len(COMPAT_RUNS)} programs, {resolved} of {sites} sites "
          f"resolved ({share:.1%})")
    assert not failures, f"{flavor}: " + "; ".join(failures)
    assert share >= 0.95, f"{flavor}: resolution share {share:.1%} below 95%"


@pytest.mark.parametrize("flavor", ["glibc", "musl"])
@pytest.mark.parametrize("name", PROGRAMS)
def test_static_programs(built, tmp_path, name, flavor):
    if (name, flavor) not in built:
        pytest.skip(f"no compiler for {flavor}")
    binary = built[(name, flavor)]
    check_recall(binary, [[str(binary), str(tmp_path)]], tmp_path, min_share=0.95)


QEMU_CALL = re.compile(r"(?:^|\s)\d+ ([a-z_][a-z0-9_]*)\(")


@pytest.mark.parametrize("name", PROGRAMS)
def test_riscv64_static_programs(tmp_path, name):
    """riscv64: the same programs, built with riscv64-linux-gnu-gcc -static, run under
    qemu-riscv64 -strace, which logs every syscall the guest makes."""
    cc, qemu = shutil.which("riscv64-linux-gnu-gcc"), shutil.which("qemu-riscv64")
    if not cc or not qemu:
        pytest.skip("riscv64-linux-gnu-gcc or qemu-riscv64 missing (apt-get install "
                    "gcc-riscv64-linux-gnu qemu-user)")
    binary = tmp_path / f"{name}-riscv64"
    subprocess.run([cc, "-O2", "-static", "-pthread", str(HERE / "programs" / f"{name}.c"),
                    "-o", str(binary)], check=True)
    report = analyze_json(binary)
    assert report["arch"] == "riscv64"
    print("\n" + describe_resolution(str(binary), report))
    log = tmp_path / f"{name}.qemu-strace"
    run = subprocess.run([qemu, "-strace", "-D", str(log), str(binary), str(tmp_path)],
                         capture_output=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    seen = {m.group(1) for line in log.read_text(errors="replace").splitlines()
            for m in QEMU_CALL.finditer(line)}
    assert len(seen) > 10, f"qemu-riscv64 -strace logged too little: {sorted(seen)}"
    assert_recall(f"{name} (riscv64)", seen, report)
    assert report["resolution"]["share"] >= 0.95


@pytest.mark.parametrize("name", PROGRAMS)
def test_dynamic_programs(built, tmp_path, name):
    binary = built[(name, "dynamic")]
    report = check_recall(binary, [[str(binary), str(tmp_path)]], tmp_path)
    roles = {o["role"] for o in report["objects"]}
    assert roles == {"executable", "interpreter", "library"}
    libc = [o for o in report["objects"] if "libc.so" in o["path"]]
    assert libc, "libc was not analyzed"
    write = next(s for s in report["syscalls"] if s["name"] == "write")
    assert any("libc.so" in p for p in write["objects"])


# --- CLI error paths ---------------------------------------------------------------

def run_cli(*args):
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=30)


def assert_error(run, *parts):
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("utx-analyze: ")
    for part in parts:
        assert part in lines[0], lines[0]
    assert run.stdout == ""


def elf64_header(machine, elf_class=2):
    ident = b"\x7fELF" + bytes([elf_class, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x400000, 64, 0, 0, 64, 56, 0, 64, 0, 0)


def test_missing_file(tmp_path):
    missing = tmp_path / "nope"
    assert_error(run_cli(str(missing)), str(missing), "No such file")


def test_not_an_elf(tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    assert_error(run_cli(str(script)), str(script), "not an ELF file")


def test_directory(tmp_path):
    assert_error(run_cli(str(tmp_path)), str(tmp_path), "directory")


def test_truncated_elf(tmp_path):
    truncated = tmp_path / "truncated"
    truncated.write_bytes(Path(BUSYBOX).read_bytes()[:100] if os.path.exists(BUSYBOX) else elf64_header(62)[:40])
    assert_error(run_cli(str(truncated)), str(truncated), "truncated")


def test_foreign_machine(tmp_path):
    arm = tmp_path / "arm64"
    arm.write_bytes(elf64_header(183))
    assert_error(run_cli(str(arm)), str(arm), "unsupported machine aarch64")
    i386 = tmp_path / "i386"
    i386.write_bytes(b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HH", 2, 3) + bytes(32))
    assert_error(run_cli(str(i386)), str(i386), "32-bit")


def test_unknown_flag():
    assert_error(run_cli("--frobnicate", BUSYBOX), "unknown option '--frobnicate'")


def test_help():
    run = run_cli("--help")
    assert run.returncode == 0 and "--json" in run.stdout and "--sites" in run.stdout


def test_sites_listing_and_exit_status():
    if not os.path.exists(BUSYBOX):
        pytest.skip("no /bin/busybox")
    run = run_cli("--sites", BUSYBOX)
    report = analyze_json(BUSYBOX)
    expected = 1 if report["verdict"]["missing"] else 0
    assert run.returncode == expected == report["verdict"]["exit_status"]
    site_lines = [l for l in run.stdout.splitlines() if re.match(r"^  0x[0-9a-f]+  (syscall|int 0x80|sysenter)", l)]
    assert len(site_lines) == report["resolution"]["sites"]
    assert run.stdout.splitlines()[-1] == "verdict: " + report["verdict"]["text"]
