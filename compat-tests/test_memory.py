"""Memory: heap, brk, anonymous and file mappings and their errors, large allocations."""

import pytest

from conftest import assert_same, check_program, program, run_native, run_utx


def test_malloc_small_and_1gib(flavor):
    native, _ = check_program(flavor, "malloc")
    assert b"small block checksum=" in native.stdout


def test_memset_200mib(flavor):
    native, _ = check_program(flavor, "memset_200m")
    assert native.stdout.startswith(b"size=209715200\nchecksum=")


def test_brk(flavor):
    check_program(flavor, "brk")


def test_mmap_munmap_mprotect_mremap(flavor):
    native, _ = check_program(flavor, "mmap")
    assert b"munmap unaligned address: EINVAL\n" in native.stdout


def test_stack_grows_then_overflows_with_sigsegv(flavor):
    prog = program(flavor, "stack_overflow")
    check_program(flavor, "stack_overflow")  # 4 MiB of stack works
    native = run_native(prog, ["1000000"])
    guest = run_utx(prog, ["1000000"])
    assert native.status == 139, native.describe()
    assert_same(native, guest, compare_stderr=False)
    assert b"Segmentation fault (signal 11)" in guest.stderr, guest.describe()


def test_file_mappings(flavor):
    check_program(flavor, "mmap_file")


def test_shared_file_mappings(flavor):
    native, _ = check_program(flavor, "mmap_shared")
    assert b"both mappings read it as zeros: ok\n" in native.stdout


@pytest.mark.parametrize("mode", ["past-the-end", "after-truncate"])
def test_shared_file_mapping_past_the_end_is_sigbus(flavor, mode):
    prog = program(flavor, "mmap_shared")
    native = run_native(prog, [mode])
    guest = run_utx(prog, [mode])
    assert native.status == 135, native.describe()
    assert_same(native, guest, compare_stderr=False)
    assert b"Bus error (signal 7)" in guest.stderr, guest.describe()
