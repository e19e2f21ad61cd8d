"""Recall of utx-analyze against strace, and the CLI's error paths.

Every syscall strace sees a binary make while running a workload natively must be in
the set utx-analyze reports for that binary (recall 100%). The share of syscall sites
whose number was resolved is printed, and must be at least 95% for glibc and musl
static binaries.
"""
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ANALYZE = os.environ.get("UTX_ANALYZE", str(HERE.parents[1] / "build-analyzer/binary-analyzer/utx-analyze"))
BUSYBOX = "/bin/busybox"
PROGRAMS = ["files", "process", "threads"]
STRACE_LINE = re.compile(r"^(?:\d+\s+)?(?:<\.\.\. )?([a-z_][a-z0-9_]*)(?:\(| resumed>)")


def analyze_json(binary):
    run = subprocess.run([ANALYZE, "--json", str(binary)], capture_output=True, text=True, timeout=60)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def traced_syscalls(argv, tmp_path, name):
    """Names of the syscalls strace -f saw, minus the execve that started the program."""
    out = tmp_path / f"{name}.strace"
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=all", "-o", str(out), *argv],
                   check=True, capture_output=True, timeout=60, cwd=tmp_path)
    seen, first_execve = set(), True
    for line in out.read_text().splitlines():
        match = STRACE_LINE.match(line)
        if not match:
            continue
        if match.group(1) == "execve" and first_execve:
            first_execve = False
            continue
        seen.add(match.group(1))
    return seen


def check_recall(binary, workloads, tmp_path, min_share=None):
    report = analyze_json(binary)
    found = {s["name"] for s in report["syscalls"] if s["name"]}
    share = report["resolution"]["share"]
    print(f"\n{binary}: {report['resolution']['resolved']} of {report['resolution']['sites']} "
          f"sites resolved ({share:.1%}), {len(found)} syscalls")
    for i, argv in enumerate(workloads):
        seen = traced_syscalls(argv, tmp_path, f"w{i}")
        missed = seen - found
        assert not missed, f"{argv}: strace saw {sorted(missed)} which the analyzer did not report"
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


@pytest.mark.parametrize("flavor", ["glibc", "musl"])
@pytest.mark.parametrize("name", PROGRAMS)
def test_static_programs(built, tmp_path, name, flavor):
    if (name, flavor) not in built:
        pytest.skip(f"no compiler for {flavor}")
    binary = built[(name, flavor)]
    check_recall(binary, [[str(binary), str(tmp_path)]], tmp_path, min_share=0.95)


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
