#!/usr/bin/python3
"""Busybox's own test suite (testsuite/ of Debian's busybox source package), run with
Debian's busybox-static binary natively and inside utx-run, and the two compared.

Both runs are the same: busybox's `runtest` driver with busybox's sh as /bin/sh (natively
in a private mount namespace with /bin/sh bound to busybox; in the guest a copy of it),
busybox's applets alone on PATH, the .config Debian built busybox-static with, a clean
environment. Inside utx-run every test script, pipeline and command substitution is a
process of its own, each a VM (fork via VM clone): the KVM backend is the one to use
(--backend qemu works, but each fork starts a QEMU and the whole run takes far longer).

The harness runs runtest once per applet (each.sh below), each within --applet-timeout
seconds, so that one slow applet does not hide the rest: under PVM a system call costs
about 50 us (two exits of kvm_pvm), and bc's two big pipelines make millions of writes.
runtest's copy gets one change, the same for both runs: with KEEP_LINKS set it keeps the
directory of applet links made by the first applet's run instead of making it again (400
`ln -s` processes each time).

Prints the pass counts of both runs and every test whose result differs; with
--explained FILE (lines "test name<TAB>why", or "applet:NAME<TAB>why" for the tests of an
applet that timed out under utx), differences listed there are accepted and others make
the exit status 1. Exit status 77: the suite cannot be had or run here (the
reason is printed).

  busybox_testsuite.py [--build DIR] [--work DIR] [--backend kvm|qemu] [--explained FILE]
                       [APPLET...]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUSYBOX = Path("/bin/busybox")
RESULT = re.compile(r"^(PASS|FAIL|SKIPPED|UNTESTED): (.*)$")


class Skip(Exception):
    pass


def source_tree(work: Path) -> Path:
    """Debian's busybox source, fetched once into work/src."""
    r = subprocess.run(["sh", str(REPO / "tools" / "debian-source.sh"), "busybox",
                        str(work / "src")], stdout=subprocess.PIPE, text=True)
    if r.returncode == 77:
        raise Skip("the busybox source package cannot be had (see above)")
    if r.returncode != 0:
        raise RuntimeError(f"tools/debian-source.sh busybox failed ({r.returncode})")
    tree = Path(r.stdout.strip().splitlines()[-1])
    for need in ("testsuite/runtest", "debian/config/pkg/static"):
        if not (tree / need).exists():
            raise RuntimeError(f"{tree} has no {need}")
    return tree


# Runs runtest for each applet named, each within $APPLET_TIMEOUT seconds, marking where
# each one starts and ends (its status: 143 when it timed out). Each runs in a session of
# its own, so that a timeout ends all of it, its pipelines too.
EACH_SH = """keep=
for a in "$@"; do
    echo "=== applet $a"
    KEEP_LINKS=$keep setsid ./runtest "$a" &
    run=$!
    (sleep "$APPLET_TIMEOUT"; kill -TERM -$run; sleep 5; kill -KILL -$run) >/dev/null 2>&1 &
    watchdog=$!
    wait $run
    status=$?
    kill $watchdog 2>/dev/null
    echo "=== end $a $status"
    keep=1
done
"""


def prepare(tree: Path, root: Path) -> None:
    """root/bin: busybox and its .config; root/testsuite: a fresh copy of the suite."""
    if root.exists():
        shutil.rmtree(root)
    (root / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    shutil.copy(tree / "debian" / "config" / "pkg" / "static", root / "bin" / ".config")
    ts = root / "testsuite"
    shutil.copytree(tree / "testsuite", ts, symlinks=True)
    runtest = (ts / "runtest").read_text()
    for line in ('rm -rf "$LINKSDIR" 2>/dev/null\n', "for i in $implemented; do\n"):
        if runtest.count("\n" + line) != 1:
            raise RuntimeError(f"runtest has changed: no single line {line.strip()!r}")
        runtest = runtest.replace("\n" + line, '\n[ -n "$KEEP_LINKS" ] || ' + line)
    (ts / "runtest").write_text(runtest)
    (ts / "each.sh").write_text(EACH_SH)


def applets_with_tests(ts: Path) -> list:
    """What runtest would run: busybox and its applets that have tests, in its order."""
    listing = subprocess.run([str(BUSYBOX)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True).stdout
    names = listing.partition("Currently defined functions:")[2].replace(",", " ").split()
    # runtest names busybox first and again among the applets: once is enough.
    return [a for a in dict.fromkeys(["busybox", *names])
            if (ts / a).is_dir() or (ts / f"{a}.tests").is_file()]


END = re.compile(r"^=== end (\S+) (\d+)$")


def results(output: str) -> tuple:
    """Each test's result and applet, and the applets whose run timed out."""
    found, applet_of, timed_out, applet = {}, {}, [], None
    for line in output.splitlines():
        if line.startswith("=== applet "):
            applet = line.split()[2]
        e = END.match(line)
        if e and e.group(2) in ("143", "137"):
            timed_out.append(e.group(1))
        m = RESULT.match(line)
        if m:
            # A name can repeat (two tests with one title): the worst result counts.
            name, result = m.group(2).strip(), m.group(1)
            if found.get(name) != "FAIL":
                found[name] = result
            applet_of[name] = applet
    return found, applet_of, timed_out


def env_for(bindir: str, applet_timeout: float) -> dict:
    return {"PATH": bindir, "HOME": "/", "LC_ALL": "C", "bindir": bindir,
            "APPLET_TIMEOUT": str(int(applet_timeout))}


def run_native(root: Path, applets: list, applet_timeout: float, timeout: float) -> str:
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or not unshare:
        raise Skip("the native run needs root and unshare (a private /bin/sh)")
    script = '"$BB" mount --bind "$BB" /bin/sh && cd "$TS" && exec /bin/sh ./each.sh "$@"'
    env = env_for(str(root / "bin"), applet_timeout)
    env.update(BB=str(root / "bin" / "busybox"), TS=str(root / "testsuite"))
    r = subprocess.run([unshare, "-m", str(BUSYBOX), "sh", "-c", script, "runtest",
                        *applets], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return r.stdout


def run_utx(root: Path, utx_run: Path, backend: str, applets: list, applet_timeout: float,
            timeout: float) -> str:
    # The suite is copied into minifs: in a host mount the absolute links runtest makes
    # (to /bb/bin/busybox) would resolve inside the mount, not from the guest's root.
    cmd = [str(utx_run), "--backend", backend, "--clear-env", "-m", "1G",
           "--copy", f"{root}:/bb", "--copy", f"{BUSYBOX}:/bin/sh", "-w", "/bb/testsuite"]
    for k, v in env_for("/bb/bin", applet_timeout).items():
        cmd += ["-e", f"{k}={v}"]
    cmd += [str(BUSYBOX), "sh", "./each.sh", *applets]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    return r.stdout


def load_explained(path) -> dict:
    explained = {}
    if not path:
        return explained
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, why = line.partition("\t")
        explained[name.strip()] = why.strip()
    return explained


def count(found: dict, kind: str) -> int:
    return sum(1 for r in found.values() if r == kind)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(REPO / "build"))
    ap.add_argument("--work", default=None, help="default BUILD/busybox-testsuite")
    ap.add_argument("--backend", default="kvm")
    ap.add_argument("--explained", default=None)
    ap.add_argument("--applet-timeout", type=float, default=300,
                    help="seconds for one applet's tests (default 300)")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds for one whole run")
    ap.add_argument("applets", nargs="*")
    args = ap.parse_args()
    build = Path(args.build)
    work = Path(args.work) if args.work else build / "busybox-testsuite"
    utx_run = build / "loader" / "utx-run"
    try:
        if not BUSYBOX.exists():
            raise Skip(f"{BUSYBOX} missing (apt-get install busybox-static)")
        if not utx_run.exists():
            print(f"busybox-testsuite: {utx_run} missing: build utx-run first", file=sys.stderr)
            return 2
        tree = source_tree(work)
        prepare(tree, work / "native")
        prepare(tree, work / "utx")
        applets = args.applets or applets_with_tests(work / "native" / "testsuite")
        t0 = time.monotonic()
        native_out = run_native(work / "native", applets, args.applet_timeout, args.timeout)
        (work / "native.log").write_text(native_out)
        t1 = time.monotonic()
        utx_out = run_utx(work / "utx", utx_run, args.backend, applets, args.applet_timeout,
                          args.timeout)
        (work / "utx.log").write_text(utx_out)
        t2 = time.monotonic()
    except Skip as why:
        print(f"busybox-testsuite: SKIP: {why}")
        return 77
    except subprocess.TimeoutExpired as e:
        print(f"busybox-testsuite: a run took longer than {e.timeout:.0f} s", file=sys.stderr)
        return 1
    native, applet_of, native_slow = results(native_out)
    utx, _, utx_slow = results(utx_out)
    if not native:
        print("busybox-testsuite: the native run reported no results; its output:\n" +
              native_out[-2000:], file=sys.stderr)
        return 1
    if not utx:
        print("busybox-testsuite: the utx-run run reported no results; its output:\n" +
              utx_out[-2000:], file=sys.stderr)
        return 1
    explained = load_explained(args.explained)

    def summary(found, slow):
        skipped = count(found, "SKIPPED") + count(found, "UNTESTED")
        out = (f"{count(found, 'PASS')} passed, {count(found, 'FAIL')} failed, "
               f"{skipped} skipped")
        return out + (f"; timed out after {args.applet_timeout:.0f} s: {' '.join(slow)}"
                      if slow else "")

    print(f"busybox testsuite ({tree.name}, {len(applets)} applets, {len(native)} tests):")
    print(f"  native:  {summary(native, native_slow)} ({t1 - t0:.0f} s)")
    print(f"  utx-run: {summary(utx, utx_slow)} ({t2 - t1:.0f} s, --backend {args.backend})")
    unexplained = 0
    used = set()
    for name in sorted(set(native) | set(utx)):
        a, b = native.get(name, "MISSING"), utx.get(name, "MISSING")
        if a == b:
            continue
        applet = applet_of.get(name)
        if b == "MISSING" and applet in utx_slow:
            b = f"not reached ({applet} timed out)"
        key = name if name in explained else f"applet:{applet}"
        why = explained.get(key)
        if why is None:
            unexplained += 1
        else:
            used.add(key)
        print(f"  differs: {name}: native {a}, utx {b}" +
              (f" ({why})" if why else " (UNEXPLAINED)"))
    for key, why in sorted(explained.items()):
        if key not in used:
            print(f"  note: {key} is listed as a difference but none was seen ({why})")
    print(f"  logs: {work / 'native.log'}, {work / 'utx.log'}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
