"""busybox-static (a real-world static binary) natively and under utx-run."""

import hashlib
from pathlib import Path

import pytest

from conftest import assert_same, expect_native, run_native, run_utx

BUSYBOX = Path("/bin/busybox")
SHA_INPUT = bytes(range(256)) * 4096 + b"tail"

CASES = [
    # id, argv after "busybox", stdin, expected stdout, expected status
    ("echo", ["echo", "hello", "world"], b"", b"hello world\n", 0),
    ("true", ["true"], b"", b"", 0),
    ("false", ["false"], b"", b"", 1),
    ("seq", ["seq", "1", "1000"], b"", b"".join(b"%d\n" % i for i in range(1, 1001)), 0),
    ("expr", ["expr", "6", "*", "7"], b"", b"42\n", 0),
    ("sha256sum", ["sha256sum"], SHA_INPUT,
     hashlib.sha256(SHA_INPUT).hexdigest().encode() + b"  -\n", 0),
    ("printf", ["printf", "%s-%d\\n", "a", "5"], b"", b"a-5\n", 0),
    ("basename", ["basename", "/a/b/c.txt", ".txt"], b"", b"c\n", 0),
    ("wc", ["wc", "-l"], b"a\nb\nc\n", b"3\n", 0),
    ("sh-builtins", ["sh", "-c", "x=6; echo $((x * 7)); exit 3"], b"", b"42\n", 3),
]


@pytest.mark.parametrize("args,stdin,stdout,status", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_busybox(args, stdin, stdout, status):
    if not BUSYBOX.is_file():
        pytest.fail(f"{BUSYBOX} missing: apt-get install busybox-static")
    native = run_native(BUSYBOX, args, input=stdin)
    expect_native(native, status=status, stdout=stdout)
    assert_same(native, run_utx(BUSYBOX, args, input=stdin))
