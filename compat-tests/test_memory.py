"""Memory: heap, brk, anonymous mappings and their errors, large allocations."""

from conftest import check_program


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
