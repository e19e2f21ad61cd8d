"""The file syscalls beyond open/read/write: vectored and positioned I/O, space and
metadata, in-kernel copies and memfd, locks and descriptor ioctls, openat2 with O_PATH and
O_TMPFILE, close_range."""

from conftest import check_program


def test_close_range(flavor):
    native, _ = check_program(flavor, "close_range")
    assert b"41 and 43 are closed: ok\n" in native.stdout


def test_fileio_vec(flavor):
    native, _ = check_program(flavor, "fileio_vec")
    assert b"preadv2 RWF_NOWAIT on an empty pipe: EAGAIN\n" in native.stdout


def test_fs_space(flavor):
    native, _ = check_program(flavor, "fs_space")
    assert b"the hole reads as zeros: ok\n" in native.stdout


def test_fd_copy(flavor):
    native, _ = check_program(flavor, "fd_copy")
    assert b"sendfile to stdout works\n" in native.stdout
    assert b"its /proc/self/fd link: ok\n" in native.stdout


def test_locks(flavor):
    native, _ = check_program(flavor, "locks", input=b"queued")
    assert b"F_OFD_GETLK sees the POSIX lock: ok\n" in native.stdout


def test_openat2(flavor):
    native, _ = check_program(flavor, "openat2")
    assert b"RESOLVE_BENEATH with ..: EXDEV\n" in native.stdout
