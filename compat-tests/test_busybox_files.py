"""busybox's file applets on a small tree, natively and under utx-run.

Each test builds the same fixture tree (files of several sizes, an empty one and ones over
64 KiB, nested directories, symlinks, fixed modes and times) in a fresh directory P on a
tmpfs, then runs one applet with its working directory P/fx: natively, and under utx-run
with `--copy P:P -w P/fx`, so that the guest sees the tree in its minifs at the same
absolute path (paths that applets print, such as `readlink -f`, are then comparable).
stdout, stderr and the exit status must be the same.

Why a tmpfs: it is what minifs stands for, and the two agree on what a stat shows of a
directory (st_size 40 + 20 per entry, st_blocks 0) and of a symlink (no blocks), which
`ls -l`, `du` and `stat` print. /tmp need not be one (on the project's machines it is
ext4), /dev/shm is.

Every applet runs a second time with the guest working on host files: a second, identical
tree Q mounted at P (`-v Q:P`); applets that change the tree must leave Q as the native run
leaves P.

Applets that only change the tree (cp, mv, rm, mkdir, ln, tar x) cannot be followed by a
second applet in the same VM (there is no fork yet), so they report what they do with -v
and their exit status and error messages are compared; the tree they leave natively is
checked by the test itself.
"""

import gzip
import io
import os
import random
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from conftest import BASE_ENV, assert_same, expect_native, run_native, run_utx

BUSYBOX = Path("/bin/busybox")
TMPFS = "/dev/shm"
# ls, stat and tar print times in the local time zone: make it the same everywhere.
ENV = {**BASE_ENV, "TZ": "UTC"}
# 2020-09-13 12:26:40 UTC: old enough for ls to print a year, not a time of day.
BASE_TIME = 1_600_000_000

WORDS = b"pear 3\napple 10\napple 10\nfig 2\nbanana 7\nbanana 7\nbanana 7\ncherry 10\ndate 1\n"
SMALL = b"alpha\nbeta\ngamma\ndelta\nepsilon\n"
BIG_TEXT = b"".join(b"%05d %s %d\n" % (i, (b"beta", b"kappa", b"omega")[i % 3], i * 7919 % 1000)
                    for i in range(6000))  # about 90 KiB
BIG_BINARY = random.Random(1).randbytes(200_000)


def _archive():
    """A ustar archive for `tar x`: a directory, a file and a symlink in it, ending with its
    two zero blocks but without the padding to 10 KiB that tarfile adds: an all-zero page
    in the file would stay a hole in the guest (test_zero_pages_take_blocks), and this file
    is not here to show that."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        def add(name, kind, mode, data=b"", target=""):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, BASE_TIME + 99
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.size, info.linkname = len(data), target
            tar.addfile(info, io.BytesIO(data) if data else None)
        add("x", tarfile.DIRTYPE, 0o755)
        add("x/file.txt", tarfile.REGTYPE, 0o640, SMALL)
        add("x/link", tarfile.SYMTYPE, 0o777, target="file.txt")
        end = tar.offset + 2 * tarfile.BLOCKSIZE
    return out.getvalue()[:end]


# (relative path, kind, mode, contents or target), made in this order. Directories list
# their entries in an order of the host's tmpfs's own (find, tar, cp -v, rm -v print it);
# --copy adds them to the guest's directories in that order, which minifs keeps.
TREE = [
    ("empty", "file", 0o644, b""),
    ("small.txt", "file", 0o644, SMALL),
    ("words.txt", "file", 0o600, WORDS),
    ("big.txt", "file", 0o644, BIG_TEXT),
    ("big.bin", "file", 0o640, BIG_BINARY),
    ("run.sh", "file", 0o4755, b"#!/bin/sh\necho hi\n"),
    ("data.gz", "file", 0o644, gzip.compress(SMALL * 20, mtime=BASE_TIME)),
    ("archive.tar", "file", 0o644, _archive()),
    ("sub", "dir", 0o750, None),
    ("sub/nested.txt", "file", 0o444, b"nested beta\n"),
    ("sub/deeper", "dir", 0o2755, None),
    ("sub/deeper/leaf.txt", "file", 0o664, b"leaf\n"),
    ("sub/up", "symlink", None, "../big.txt"),
    ("sub/same", "hardlink", None, "words.txt"),  # words.txt gets st_nlink 2
    ("link", "symlink", None, "small.txt"),
    ("dangling", "symlink", None, "nowhere"),
    ("shared", "dir", 0o1777, None),
]
DIRS = [rel for rel, kind, _, _ in TREE if kind == "dir"]
HARD_LINKED = ["words.txt", "sub/same"]


def _is_tmpfs(path):
    out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.strip() == "tmpfs"


def build_tree():
    """P, a fresh directory on a tmpfs holding fx/, the tree above."""
    if not BUSYBOX.is_file():
        pytest.fail(f"{BUSYBOX} missing: apt-get install busybox-static")
    if not _is_tmpfs(TMPFS):
        pytest.fail(f"{TMPFS} is not a tmpfs: these tests compare minifs with tmpfs")
    top = Path(tempfile.mkdtemp(prefix="utx-files.", dir=TMPFS))
    fx = top / "fx"
    fx.mkdir(0o755)
    for i, (rel, kind, mode, data) in enumerate(TREE):
        path = fx / rel
        if kind == "hardlink":
            os.link(fx / data, path)  # the times and mode are its target's
            continue
        if kind == "dir":
            path.mkdir()
        elif kind == "symlink":
            path.symlink_to(data)
        else:
            path.write_bytes(data)
        if mode is not None:
            os.chmod(path, mode)
        # Distinct times (atime = mtime, as an unpacked cpio archive has them), set
        # before the directories' own, which every entry made inside them changes.
        os.utime(path, (BASE_TIME + 3600 * i,) * 2, follow_symlinks=False)
    for rel in [*reversed(DIRS), "."]:
        os.utime(fx / rel, (BASE_TIME - 3600,) * 2)
    os.chmod(top, 0o755)
    os.utime(top, (BASE_TIME - 7200,) * 2)
    return top


@pytest.fixture
def tree():
    """The tree, removed afterwards."""
    top = build_tree()
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def host_tree(tree):
    """(P, Q): the native tree P and a second, identical one Q that utx-run mounts at P
    (-v Q:P), so that the guest works on host files at the same paths."""
    other = build_tree()
    try:
        yield tree, other
    finally:
        shutil.rmtree(other, ignore_errors=True)


def run_both(top, args, *, status=0, stderr=b"", changes_tree=False, mounted=None):
    """Runs the applet natively and under utx-run; returns the native result, checked as
    the test's own sanity check first. An applet that changes the tree runs in the guest
    first, since utx-run copies the tree as it starts. The others run natively first, as
    the copy reads every file and directory on the host, which moves their access times
    (the guest's copies get their access times from the modification times).
    With `mounted` (a second tree), the guest works on that one through a host mount at
    the same path instead of on a copy in its minifs."""
    where = ["-v", f"{mounted}:{top}"] if mounted else ["--copy", f"{top}:{top}"]

    def guest():
        return run_utx(BUSYBOX, args, env=ENV, options=[*where, "-w", f"{top}/fx"])
    utx = guest() if changes_tree else None
    native = run_native(BUSYBOX, args, env=ENV, cwd=top / "fx")
    expect_native(native, status=status, stderr=stderr)
    assert_same(native, utx or guest())
    return native


STAT_FORMAT = "%n|%F|%s|%b|%B|%o|%f|%a|%A|%h|%u|%U|%g|%G|%X|%Y|%N"

def case(name, args, status=0, stderr=b"", *rest):
    """A test case: argv after "busybox", the native exit status and stderr expected."""
    return pytest.param(args, status, stderr, *rest, id=name)


READING = [
    case("ls-la", ["ls", "-la"]),
    case("ls-laR", ["ls", "-laR"]),
    case("ls-full-time", ["ls", "-la", "--full-time", "sub"]),
    case("ls-lu-atime", ["ls", "-lu"]),
    case("ls-n", ["ls", "-lan", "sub/deeper"]),
    case("cat", ["cat", "small.txt", "empty", "big.bin", "link", "sub/up"]),
    case("cat-dir", ["cat", "sub"], 1, b"cat: read error: Is a directory\n"),
    case("cat-not-a-dir", ["cat", "small.txt/"], 1,
         b"cat: can't open 'small.txt/': Not a directory\n"),
    case("ls-missing", ["ls", "missing"], 1, b"ls: missing: No such file or directory\n"),
    case("find", ["find", "."]),
    case("find-type-size", ["find", ".", "-type", "f", "-size", "+8"]),
    case("find-newer", ["find", ".", "-newer", "big.bin"]),
    case("find-perm-name", ["find", ".", "-perm", "-u+x", "-o", "-name", "*.txt"]),
    case("find-links", ["find", ".", "-links", "2", "-type", "f"]),
    case("du-a", ["du", "-a", "."]),
    case("du-sk", ["du", "-sk", ".", "sub"]),
    case("sort", ["sort", "words.txt"]),
    case("sort-rn-k2", ["sort", "-rn", "-k2", "words.txt", "big.txt"]),
    case("uniq-c", ["uniq", "-c", "words.txt"]),
    case("wc", ["wc", "small.txt", "big.txt", "big.bin", "empty"]),
    case("head", ["head", "-n", "3", "small.txt", "big.txt"]),
    case("head-c", ["head", "-c", "70000", "big.bin"]),
    case("tail", ["tail", "-n", "4", "big.txt"]),
    case("tail-c", ["tail", "-c", "70000", "big.bin"]),
    # grep -r follows symlinks, and says so of the dangling one.
    case("grep-rn", ["grep", "-rn", "beta", "."], 0,
         b"grep: ./dangling: No such file or directory\n"),
    case("grep-c", ["grep", "-c", "omega", "big.txt"]),
    case("sed", ["sed", "-n", "s/a/A/gp", "small.txt", "sub/nested.txt"]),
    case("awk", ["awk", "{ n += length($0) } $2 == \"kappa\" { k++ } END { print NR, n, k }",
                 "big.txt"]),
    case("tar-c-numeric-owner", ["tar", "cf", "-", "--numeric-owner", "sub"]),
    case("tar-tv", ["tar", "tvf", "archive.tar"]),
    case("gzip-c", ["gzip", "-c", "big.txt"]),
    case("gunzip-c", ["gunzip", "-c", "data.gz"]),
    case("md5sum", ["md5sum", "empty", "small.txt", "big.txt", "big.bin",
                    "sub/deeper/leaf.txt", "link"]),
    case("readlink", ["readlink", "sub/up"]),
    case("readlink-f", ["readlink", "-f", "sub/up"]),
    case("readlink-f-dangling", ["readlink", "-f", "dangling"]),
    case("readlink-not-a-link", ["readlink", "small.txt"], 1, b""),
    case("stat", ["stat", "-c", STAT_FORMAT, ".", "..", "empty", "big.bin", "run.sh", "sub",
                  "sub/deeper", "sub/nested.txt", "sub/same", "words.txt", "link", "dangling",
                  "shared"]),
    case("stat-L", ["stat", "-L", "-c", STAT_FORMAT, "link", "sub/up"]),
]


@pytest.mark.parametrize("args,status,stderr", READING)
def test_reading_applet(tree, args, status, stderr):
    native = run_both(tree, args, status=status, stderr=stderr)
    if status == 0:
        assert native.stdout, "the applet printed nothing natively: a broken test"


@pytest.mark.parametrize("args,status,stderr", READING)
def test_reading_applet_on_a_host_mount(host_tree, args, status, stderr):
    top, mounted = host_tree
    run_both(top, args, status=status, stderr=stderr, mounted=mounted)


def test_large_directory(tree):
    """1500 entries: more than one getdents64 call's worth (glibc asks for 32 KiB), so the
    listing resumes from a cookie; find prints them in the directory's own order."""
    many = tree / "fx" / "many"
    many.mkdir()
    for i in range(1500):
        (many / f"entry-with-a-longish-name-{i:05d}").touch()
    os.utime(many, (BASE_TIME,) * 2)
    run_both(tree, ["find", "many"])
    run_both(tree, ["ls", "-la", "many"])


@pytest.mark.xfail(strict=True, reason="utx-run --copy keeps whole seconds of a file's times: "
                   "the cpio newc header that carries them into the guest has no nanoseconds "
                   "(loader/root_image.cpp, minifs::CpioMeta::mtime)")
def test_subsecond_times(tree):
    os.utime(tree / "fx" / "small.txt", ns=(BASE_TIME * 10**9 + 123456789,) * 2)
    run_both(tree, ["stat", "-c", "%y %x", "small.txt"])


@pytest.mark.xfail(strict=True, reason="utx-run's image unpacker leaves the all-zero pages of "
                   "a copied file as holes (minifs/cpio.cpp Unpacker::fill, by design: it saves "
                   "guest memory), so st_blocks is lower than on the host, where the file is "
                   "not sparse")
def test_zero_pages_take_blocks(tree):
    (tree / "fx" / "zeros.bin").write_bytes(bytes(3 * 4096) + b"x")
    run_both(tree, ["stat", "-c", "%n %s %b", "zeros.bin"])


def _members(archive):
    """name -> (type, mode, uid, gid, uname, gname, size, mtime, link target, data)."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: (m.type, m.mode, m.uid, m.gid, m.uname, m.gname, m.size, m.mtime,
                         m.linkname, tar.extractfile(m).read() if m.isfile() else None)
                for m in tar.getmembers()}


def test_tar_c(tree):
    """tar c of the whole tree to stdout: names in directory order, modes, owners, times
    and data, all in one archive that must be the same byte for byte. On a difference the
    failure names the members whose headers or data differ."""
    args = ["tar", "cf", "-", "."]
    native = run_native(BUSYBOX, args, env=ENV, cwd=tree / "fx")
    expect_native(native)
    members = _members(native.stdout)
    kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}
    # Two names of one file: whichever tar reaches first holds the data, the other is a
    # link to it.
    pair = sorted((members["./" + rel] for rel in HARD_LINKED), key=lambda m: m[0])
    assert [(m[0], m[9]) for m in pair] == [(tarfile.REGTYPE, WORDS), (tarfile.LNKTYPE, None)]
    for i, (rel, kind, mode, data) in enumerate(TREE):
        if rel in HARD_LINKED:
            continue
        got = members["./" + rel]
        expected = (kinds[kind], 0o777 if mode is None else mode,
                    BASE_TIME - 3600 if kind == "dir" else BASE_TIME + 3600 * i,
                    data if kind == "symlink" else "",
                    data if kind == "file" else None)
        assert (got[0], got[1], *got[7:]) == expected, f"native archive, {rel}: a broken test"
    guest = run_utx(BUSYBOX, args, env=ENV,
                    options=["--copy", f"{tree}:{tree}", "-w", f"{tree}/fx"])
    if guest.status == 0 and guest.stdout != native.stdout:
        theirs = _members(guest.stdout)
        diffs = [f"{name}: native {members.get(name)!r:.200}, utx {theirs.get(name)!r:.200}"
                 for name in sorted(set(members) | set(theirs))
                 if members.get(name) != theirs.get(name)]
        if list(members) != list(theirs):
            diffs.append(f"member order: native {list(members)}, utx {list(theirs)}")
        pytest.fail("tar archives differ:\n" + "\n".join(diffs))
    assert_same(native, guest)


# Applets that change the tree, with -v where they have it, and a check of the tree that
# the native run leaves.
CHANGING = [
    case("cp-rv", ["cp", "-rv", "sub", "copy"], 0, b"",
         lambda fx: (fx / "copy/deeper/leaf.txt").read_bytes() == b"leaf\n"
         and os.readlink(fx / "copy/up") == "../big.txt"),
    case("cp-av", ["cp", "-av", "sub", "acopy"], 0, b"",
         lambda fx: (fx / "acopy/deeper").stat().st_mtime == BASE_TIME - 3600
         and (fx / "acopy/nested.txt").stat().st_mtime == BASE_TIME + 3600 * 9
         and (fx / "acopy/nested.txt").stat().st_mode & 0o7777 == 0o444),
    case("mv-v-file", ["mv", "-v", "small.txt", "sub/moved.txt"], 0, b"",
         lambda fx: (fx / "sub/moved.txt").read_bytes() == SMALL
         and not (fx / "small.txt").exists()),
    case("mv-v-dir", ["mv", "-v", "sub", "renamed"], 0, b"",
         lambda fx: (fx / "renamed/deeper/leaf.txt").is_file()),
    case("rm-rv", ["rm", "-rv", "sub"], 0, b"",
         lambda fx: not (fx / "sub").exists()),
    case("rm-missing", ["rm", "-r", "missing", "run.sh"], 1,
         b"rm: can't remove 'missing': No such file or directory\n",
         lambda fx: not (fx / "run.sh").exists()),
    case("mkdir-pv", ["mkdir", "-pv", "a/b/c", "sub/deeper/d"], 0, b"",
         lambda fx: (fx / "a/b/c").is_dir() and (fx / "sub/deeper/d").is_dir()),
    case("mkdir-exists", ["mkdir", "sub", "new"], 1,
         b"mkdir: can't create directory 'sub': File exists\n",
         lambda fx: (fx / "new").is_dir()),
    case("ln-sv", ["ln", "-sv", "big.txt", "sub/deeper/alias"], 0, b"",
         lambda fx: os.readlink(fx / "sub/deeper/alias") == "big.txt"),
    case("ln-s-exists", ["ln", "-s", "big.txt", "link"], 1,
         b"ln: link: File exists\n",
         lambda fx: os.readlink(fx / "link") == "small.txt"),
    case("tar-xv", ["tar", "xvf", "archive.tar"], 0, b"",
         lambda fx: (fx / "x/file.txt").read_bytes() == SMALL
         and (fx / "x/file.txt").stat().st_mtime == BASE_TIME + 99),
    case("cp-v-into-dir", ["cp", "-v", "small.txt", "big.bin", "sub"], 0, b"",
         lambda fx: (fx / "sub/big.bin").read_bytes() == BIG_BINARY),
    case("cp-dir-without-r", ["cp", "sub", "x"], 1, b"cp: omitting directory 'sub'\n",
         lambda fx: not (fx / "x").exists()),
    case("mv-v-replace", ["mv", "-v", "big.bin", "small.txt"], 0, b"",
         lambda fx: (fx / "small.txt").read_bytes() == BIG_BINARY),
    case("mv-into-itself", ["mv", "sub", "sub/deeper/x"], 1,
         b"mv: can't rename 'sub': Invalid argument\n",
         lambda fx: (fx / "sub").is_dir()),
    case("rm-v-link", ["rm", "-v", "link", "sub/same"], 0, b"",
         lambda fx: not (fx / "link").is_symlink() and (fx / "words.txt").stat().st_nlink == 1),
    case("rmdir-not-empty", ["rmdir", "sub"], 1, b"rmdir: 'sub': Directory not empty\n",
         lambda fx: (fx / "sub").is_dir()),
    case("mkdir-p-not-a-dir", ["mkdir", "-p", "small.txt/x"], 1,
         b"mkdir: can't create directory 'small.txt/': Not a directory\n",
         lambda fx: (fx / "small.txt").is_file()),
    case("sed-i", ["sed", "-i", "s/beta/BETA/", "small.txt"], 0, b"",
         lambda fx: b"BETA" in (fx / "small.txt").read_bytes()),
    case("gzip-in-place", ["gzip", "big.txt"], 0, b"",
         lambda fx: gzip.decompress((fx / "big.txt.gz").read_bytes()) == BIG_TEXT),
    case("gunzip-v-in-place", ["gunzip", "-v", "data.gz"], 0,
         b"data.gz: 91% - replaced with data\n",
         lambda fx: (fx / "data").read_bytes() == SMALL * 20),
]


@pytest.mark.parametrize("args,status,stderr,check", CHANGING)
def test_changing_applet(tree, args, status, stderr, check):
    run_both(tree, args, status=status, stderr=stderr, changes_tree=True)
    assert check(tree / "fx"), "the native run did not leave the tree expected: a broken test"


@pytest.mark.parametrize("args,status,stderr,check", CHANGING)
def test_changing_applet_on_a_host_mount(host_tree, args, status, stderr, check):
    """The same, on host files: what the guest did is on the host when utx-run exits."""
    top, mounted = host_tree
    run_both(top, args, status=status, stderr=stderr, changes_tree=True, mounted=mounted)
    assert check(top / "fx"), "the native run did not leave the tree expected: a broken test"
    assert check(mounted / "fx"), "utx-run did not leave the same tree on the host"
