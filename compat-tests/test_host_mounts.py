"""Host mounts (-v HOST:GUEST[:ro]): the file calls on a host directory, confinement, and
what the program leaves on the host.

The oracle for the file calls is the same program natively on a host directory; for the
escape attempts it is the program natively chrooted into the directory (which needs root:
the test says loudly when it skips)."""

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from conftest import assert_same, expect_native, program, run_native, run_utx

BUSYBOX = Path("/bin/busybox")


def compare_in_a_directory(flavor, name, tmp_path):
    """Runs a compat program that works in the directory given as its argument: natively
    in one, under utx in another mounted at /m. Returns the host directory utx used."""
    prog = program(flavor, name)
    native_dir, mount = tmp_path / "native", tmp_path / "mount"
    native_dir.mkdir()
    mount.mkdir()
    native = run_native(prog, [native_dir])
    expect_native(native)
    assert_same(native, run_utx(prog, ["/m"], options=["-v", f"{mount}:/m"]))
    return mount


def test_files_on_a_host_mount(flavor, tmp_path):
    mount = compare_in_a_directory(flavor, "files", tmp_path)
    assert list(mount.iterdir()) == [], "the program removes what it made, on the host too"


def make_escape_fixture(base):
    """base/root is shared; base/secret lies next to it and must stay out of reach."""
    if base.exists():
        shutil.rmtree(base)
    (base / "root" / "sub").mkdir(parents=True)
    (base / "secret").write_text("secret\n")
    (base / "root" / "rel").symlink_to("../secret")
    (base / "root" / "abs").symlink_to(base / "secret")
    (base / "root" / "sub" / "deep").symlink_to("../" * 12 + str(base / "secret")[1:])
    return base / "root"


def test_escape_attempts_fail_as_in_a_chroot(flavor, tmp_path):
    if os.geteuid() != 0:
        print("\nWARNING: SKIPPED: the chroot oracle needs root")
        pytest.skip("the native oracle chroots, which needs root")
    prog = program(flavor, "mount_escape")
    base = tmp_path / "escape"
    # The same paths for both runs: the symlinks hold absolute host paths.
    root = make_escape_fixture(base)
    native = run_native(prog, ["chroot", root])
    expect_native(native)
    root = make_escape_fixture(base)
    guest = run_utx(prog, ["plain", "/m"], options=["-v", f"{root}:/m"])
    assert_same(native, guest)
    assert (base / "secret").read_text() == "secret\n"
    assert sorted(p.name for p in base.iterdir()) == ["root", "secret"]
    assert (root / "created").read_text() == "in"


def test_paths_out_of_a_mount_stay_in_the_guest(tmp_path):
    """".." from a mount's root leads to the guest's own directories, never the host's."""
    root = make_escape_fixture(tmp_path / "escape")
    secret = tmp_path / "escape" / "secret"
    for path in ["/m/../secret", "/m/sub/../../secret", f"/m/..{secret}", f"/m/../../..{secret}"]:
        r = run_utx(BUSYBOX, ["cat", path], options=["-v", f"{root}:/m"])
        assert r.status == 1 and b"secret" not in r.stdout, r.describe()
        assert r.stderr.endswith(b"No such file or directory\n"), r.describe()
    # ..., while ".." below the root stays on the mount.
    r = run_utx(BUSYBOX, ["readlink", "sub/../rel"], options=["-v", f"{root}:/m", "-w", "/m"])
    assert (r.status, r.stdout) == (0, b"../secret\n"), r.describe()


def test_files_written_are_on_the_host(tmp_path):
    mount = tmp_path / "mount"
    (mount / "in").mkdir(parents=True)
    data = bytes(range(256)) * 1000
    (mount / "in" / "data.bin").write_bytes(data)
    opts = ["-v", f"{mount}:/work", "-w", "/work"]
    steps = [
        ["cp", "-r", "in", "out"],
        ["mv", "out/data.bin", "out/moved.bin"],
        ["ln", "-s", "moved.bin", "out/link"],
        ["mkdir", "-p", "deep/er/est"],
        ["sh", "-c", "echo appended >> out/moved.bin"],
        ["rm", "-r", "in"],
    ]
    for argv in steps:
        r = run_utx(BUSYBOX, argv, options=opts)
        assert (r.status, r.stderr) == (0, b""), r.describe()
    assert not (mount / "in").exists()
    assert (mount / "out" / "moved.bin").read_bytes() == data + b"appended\n"
    assert os.readlink(mount / "out" / "link") == "moved.bin"
    assert (mount / "deep" / "er" / "est").is_dir()
    r = run_utx(BUSYBOX, ["md5sum", "out/link"], options=opts)
    assert r.stdout == hashlib.md5(data + b"appended\n").hexdigest().encode() + b"  out/link\n"


@pytest.mark.parametrize("argv,message", [
    (["touch", "/m/new"], b"touch: /m/new: Read-only file system\n"),
    (["mkdir", "/m/dir"], b"mkdir: can't create directory '/m/dir': Read-only file system\n"),
    (["rm", "/m/file"], b"rm: can't remove '/m/file': Read-only file system\n"),
    (["mv", "/m/file", "/m/other"], b"mv: can't rename '/m/file': Read-only file system\n"),
    (["chmod", "600", "/m/file"], b"chmod: /m/file: Read-only file system\n"),
    (["sh", "-c", "echo x >> /m/file"], b"sh: can't create /m/file: Read-only file system\n"),
    (["ln", "-s", "file", "/m/link"], b"ln: /m/link: Read-only file system\n"),
])
def test_read_only_mount(tmp_path, argv, message):
    mount = tmp_path / "ro"
    mount.mkdir()
    (mount / "file").write_text("unchanged\n")
    r = run_utx(BUSYBOX, argv, options=["-v", f"{mount}:/m:ro"])
    assert r.status != 0 and r.stderr == message, r.describe()
    assert sorted(p.name for p in mount.iterdir()) == ["file"]
    assert (mount / "file").read_text() == "unchanged\n"
    r = run_utx(BUSYBOX, ["cat", "/m/file"], options=["-v", f"{mount}:/m:ro"])
    assert (r.status, r.stdout) == (0, b"unchanged\n"), r.describe()


def test_a_mounted_file(tmp_path):
    conf = tmp_path / "app.conf"
    conf.write_text("key=value\n")
    opts = ["-v", f"{conf}:/etc/app.conf"]
    r = run_utx(BUSYBOX, ["cat", "/etc/app.conf"], options=opts)
    assert (r.status, r.stdout) == (0, b"key=value\n"), r.describe()
    r = run_utx(BUSYBOX, ["sh", "-c", "echo more=1 >> /etc/app.conf"], options=opts)
    assert r.status == 0, r.describe()
    assert conf.read_text() == "key=value\nmore=1\n"
    r = run_utx(BUSYBOX, ["rm", "/etc/app.conf"], options=opts)
    assert r.status == 1 and b"Device or resource busy" in r.stderr, r.describe()
    r = run_utx(BUSYBOX, ["cat", "/etc/app.conf/x"], options=opts)
    assert r.status == 1 and b"Not a directory" in r.stderr, r.describe()


@pytest.mark.parametrize("spec,message", [
    ("/nonexistent-utx-dir:/m", "utx-run: -v /nonexistent-utx-dir: No such file or directory"),
    ("{tmp}:relative", "utx-run: invalid -v '{tmp}:relative' (expected HOST:/GUEST/PATH or HOST:/GUEST/PATH:ro)"),
    ("{tmp}:/", "utx-run: -v {tmp}:/: mounting over the guest's / is not supported"),
    ("{tmp}:/a/../b", "utx-run: -v {tmp}:/a/../b: the guest path must be a plain absolute path"),
])
def test_bad_mount_options(tmp_path, spec, message):
    spec = spec.format(tmp=tmp_path)
    r = run_utx(BUSYBOX, ["true"], options=["-v", spec])
    assert r.status == 2, r.describe()
    assert r.stderr.decode().splitlines()[-1] == message.format(tmp=tmp_path), r.describe()


def test_nested_mounts_are_refused(tmp_path):
    r = run_utx(BUSYBOX, ["true"], options=["-v", f"{tmp_path}:/m", "-v", f"{tmp_path}:/m/n"])
    assert r.status == 2 and b"nested mounts are not supported" in r.stderr, r.describe()


def test_proc_mounts_lists_the_host_mounts(tmp_path):
    r = run_utx(BUSYBOX, ["cat", "/proc/self/mounts"],
                options=["-v", f"{tmp_path}:/data:ro", "-v", f"{tmp_path}:/rw"])
    assert r.status == 0, r.describe()
    assert r.stdout.splitlines()[-2:] == [b"hostfs /data hostfs ro,relatime 0 0",
                                          b"hostfs /rw hostfs rw,relatime 0 0"], r.describe()


def test_mmap_of_a_host_file(flavor, tmp_path):
    """Private and read-only shared mappings of a file beneath a host mount."""
    compare_in_a_directory(flavor, "mmap_file", tmp_path)
