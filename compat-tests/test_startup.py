"""Startup: argv, environment, exit status, TLS, process identity, fault reporting."""


import pytest

from conftest import (
    BASE_ENV,
    SEGV_REPORT,
    assert_same,
    check_program,
    expect_native,
    program,
    run_native,
    run_process,
    run_utx,
)


def test_hello(flavor):
    check_program(flavor, "hello", stdout=b"Hello, world!\n")


@pytest.mark.parametrize("status", [0, 1, 42, 255])
def test_exit_code(flavor, status):
    check_program(flavor, "exit_code", [str(status)], status=status, stdout=b"")


def _argv_lines(prog, args):
    lines = [f"argc={len(args) + 1}", f"argv[0]={prog}"]
    lines += [f"argv[{i}]={arg}" for i, arg in enumerate(args, 1)]
    return "\n".join(lines).encode() + b"\n"


def _env_lines(env):
    lines = [f"env[{i}]={k}={v}" for i, (k, v) in enumerate(env.items())]
    return ("\n".join(lines) + "\n" if lines else "").encode() + f"envc={len(env)}\n".encode()


def test_args_and_environment(flavor):
    args = ["one", "two words", "", "ünïcödé", "--flag=-e", "x" * 10000, "$HOME", "*"]
    env = dict(BASE_ENV, UTX_TEST_VAR="hello world", EMPTY="", EQUALS="a=b=c")
    prog = program(flavor, "args_env")
    native = run_native(prog, args, env=env)
    expect_native(native, stdout=_argv_lines(prog, args) + _env_lines(env))
    assert_same(native, run_utx(prog, args, env=env))


def test_many_args(flavor):
    args = [f"argument-{i}" for i in range(2000)]
    prog = program(flavor, "args_env")
    native = run_native(prog, args)
    expect_native(native, stdout=_argv_lines(prog, args) + _env_lines(BASE_ENV))
    assert_same(native, run_utx(prog, args))


def _sorted_env(stdout):
    """stdout of args_env with the environment lines as a sorted multiset of K=V."""
    argv, env = [], []
    for line in stdout.decode().splitlines():
        if line.startswith("env["):
            env.append(line.split("=", 1)[1])
        else:
            argv.append(line)
    return argv, sorted(env)


def test_env_option_adds_and_overrides(flavor):
    prog = program(flavor, "args_env")
    native_env = dict(BASE_ENV, ADDED="a=b c", LC_ALL="POSIX")
    native = run_native(prog, ["x"], env=native_env)
    expect_native(native, stdout=_argv_lines(prog, ["x"]) + _env_lines(native_env))
    guest = run_utx(prog, ["x"], options=["-e", "ADDED=a=b c", "-e", "LC_ALL=POSIX"])
    assert (guest.status, guest.stderr) == (0, b""), guest.describe()
    # Where utx-run puts an added variable in envp is not specified; which variables the
    # guest sees (each once) is.
    assert _sorted_env(guest.stdout) == _sorted_env(native.stdout), guest.describe()


def test_clear_env_keeps_only_e_vars(flavor):
    prog = program(flavor, "args_env")
    native = run_native(prog, [], env={"ONLY": "1", "ALSO": "two"})
    expect_native(native, stdout=_argv_lines(prog, []) + b"env[0]=ONLY=1\nenv[1]=ALSO=two\nenvc=2\n")
    guest = run_utx(prog, [], options=["--clear-env", "-e", "ONLY=1", "-e", "ALSO=two"])
    assert_same(native, guest)


def test_clear_env_alone_gives_an_empty_environment(flavor):
    prog = program(flavor, "args_env")
    native = run_native(prog, [], env={})
    expect_native(native, stdout=_argv_lines(prog, []) + b"envc=0\n")
    assert_same(native, run_utx(prog, [], options=["--clear-env"]))


def test_tls(flavor):
    native, _ = check_program(flavor, "tls")
    assert b"tls_initialized=1234\n" in native.stdout


def test_uname(flavor):
    native, _ = check_program(flavor, "uname")
    assert native.stdout.startswith(b"sysname=Linux\nmachine=x86_64\n")


def test_pids(flavor):
    check_program(flavor, "pids")


def test_readlink_proc_self_exe(flavor):
    """readlink, and execve("/proc/self/exe") twice: the link names the same file after."""
    native, _ = check_program(flavor, "readlink_exe")
    assert native.stdout.count(b"basename=readlink_exe\n") == 3


def test_sigaction_bookkeeping(flavor):
    check_program(flavor, "sigaction")


def test_null_pointer_write_is_sigsegv(flavor):
    prog = program(flavor, "fault_null")
    native = run_native(prog)
    expect_native(native, status=139, stdout=b"about to write through a null pointer\n")
    # The same status as a shell reports it.
    shell = run_process(["/bin/sh", "-c", '"$0"; echo "status $?"', prog], timeout=60)
    assert shell.stdout.endswith(b"status 139\n"), shell.describe()

    guest = run_utx(prog)
    assert_same(native, guest, compare_stderr=False)
    lines = guest.stderr.decode(errors="replace").splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr\n{guest.describe()}"
    report = SEGV_REPORT.match(lines[0])
    assert report, f"stderr is not the Segmentation fault report\n{guest.describe()}"
    assert int(report["addr"], 16) == 0, f"fault address is not 0\n{guest.describe()}"
    assert report["prog"].endswith("fault_null"), guest.describe()


@pytest.mark.kvm
def test_hello_on_our_kvm_vmm():
    """The KVM backend itself (not the QEMU fallback) boots hello. Speed is measured by
    bench/boot_bench.py, never asserted here."""
    prog = program("glibc-static", "hello")
    native = run_native(prog)
    guest = run_utx(prog)
    assert_same(native, guest)


def test_prctl(flavor):
    check_program(flavor, "prctl")
