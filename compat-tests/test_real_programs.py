"""The real programs of real-programs.toml (Debian's busybox-static, bash-static,
zsh-static, mksh-static, sash; lua5.4 and sqlite3 built statically from Debian's sources),
each run natively and under utx-run with the same command, input and working directory,
compared. See the list's header for its fields."""

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import BASE_ENV, REPO, assert_same, expect_native, run_native, run_utx

HERE = Path(__file__).resolve().parent
LIST = HERE / "real-programs.toml"
BUILD = Path(os.environ.get("UTX_REAL_PROGRAMS_BUILD_DIR", REPO / "build" / "real-programs"))
BUILD_TIMEOUT = 600
PROGRAMS = tomllib.loads(LIST.read_text())["program"]


def obtain(entry):
    """The program's binary: from its Debian package, or built from its Debian source."""
    if "deb" in entry:
        binary = Path(entry["binary"])
        if not binary.is_file():
            pytest.fail(f"{binary} missing: apt-get install {entry['deb']}")
        return binary
    try:
        run = subprocess.run([str(HERE / "real-programs" / "build.sh"), entry["source"], str(BUILD)],
                             capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"building {entry['source']} took more than {BUILD_TIMEOUT} s")
    if run.returncode == 77:
        reason = (run.stderr.strip().splitlines() or ["build.sh: skip"])[-1]
        print(f"\nWARNING: SKIPPED: {reason}")
        pytest.skip(reason)
    assert run.returncode == 0, f"build.sh {entry['source']} failed:\n{run.stderr[-3000:]}"
    return Path(run.stdout.strip().splitlines()[-1])


def listing(directory):
    return sorted((str(p.relative_to(directory)), p.stat().st_size)
                  for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize("entry", PROGRAMS, ids=[p["name"] for p in PROGRAMS])
def test_real_program(tmp_path, entry):
    binary = obtain(entry)
    work = tmp_path / "work"  # the working directory, the same path on both sides
    (work / "bin").mkdir(parents=True)
    options = ["-w", str(work)]
    for source, destination in entry.get("files", []):
        source = Path(source) if Path(source).is_absolute() else REPO / source
        shutil.copy(source, work / destination)
        options += ["--copy", f"{source}:{work / destination}"]
    if entry.get("applets"):
        shutil.copy("/bin/busybox", work / "bin" / "busybox")
        for applet in entry["applets"]:
            (work / "bin" / applet).symlink_to("busybox")
        options += ["-v", f"{work / 'bin'}:{work / 'bin'}:ro"]
    if not entry.get("files") and not entry.get("applets"):
        options += ["--copy", f"{work / 'bin'}:{work / 'bin'}"]  # the directory itself
    guest_mount = None
    if entry.get("mount"):
        (work / entry["mount"]).mkdir()
        guest_mount = tmp_path / "guest-mount"
        guest_mount.mkdir()
        options += ["-v", f"{guest_mount}:{work / entry['mount']}"]
    stdin = (HERE / "real-programs" / entry["stdin"]).read_bytes() if entry.get("stdin") else b""
    # PATH is the bin/ of the working directory alone (utx-run itself keeps the harness's,
    # and gives the program this one).
    path = str(work / "bin")
    native = run_native(binary, entry["args"], input=stdin, env={**BASE_ENV, "PATH": path},
                        cwd=work)
    expect_native(native, stderr=None)
    guest = run_utx(binary, entry["args"], input=stdin, options=[*options, "-e", f"PATH={path}"])
    assert_same(native, guest)
    if guest_mount:
        mount = work / entry["mount"]
        assert listing(guest_mount) == listing(mount), \
            f"the host mount holds {listing(guest_mount)}, natively {listing(mount)}"
