"""Shared by the recall tests: run utx-analyze, run a workload under `strace -f`, and
attribute every syscall strace saw to the program that made it.

Attribution matters because a workload may start other programs (bash running busybox
applets): only the syscalls made while a process was running the analyzed binary count.
Each process starts as its parent was at the fork/clone, and changes program at each
successful execve; the execve call itself belongs to the program that made it. The first
execve (strace's own child starting the workload) belongs to no program.
"""
import json
import os
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANALYZE = os.environ.get("UTX_ANALYZE", str(HERE.parents[1] / "build-analyzer/binary-analyzer/utx-analyze"))

# "1234 name(" or "1234 <... name resumed>"; strace -f -o FILE prefixes every line with the pid.
LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_][a-z0-9_]*)(\(| resumed>)")
EXECVE_PATH = re.compile(r'^\d+\s+execve\("((?:[^"\\]|\\.)*)"')
RESULT = re.compile(r"\)\s+=\s+(-?\d+)")
SPAWNERS = {"clone", "clone3", "fork", "vfork"}


def analyze_json(binary, *extra):
    run = subprocess.run([ANALYZE, "--json", *extra, str(binary)], capture_output=True, text=True, timeout=120)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def reported_names(report):
    return {s["name"] for s in report["syscalls"] if s["name"]}


def describe_resolution(label, report):
    res = report["resolution"]
    return f"{label}: {res['resolved']} of {res['sites']} sites resolved ({res['share']:.1%}), " \
           f"{len(report['syscalls'])} syscalls"


def strace_command(out, argv):
    return ["strace", "-f", "-qq", "-e", "trace=all", "-o", str(out), *argv]


def _same_file(path, binary):
    try:
        return os.path.samefile(path, binary)
    except OSError:
        return False


def syscalls_by_program(trace_text):
    """{program path or None: set of syscall names} from `strace -f -o` output."""
    events, order = {}, []          # pid -> [("call", name) | ("exec", path) | ("spawn", pid)]
    pending_exec = {}               # pid -> path of an execve not yet finished
    for line in trace_text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        pid, name, kind = int(match.group(1)), match.group(2), match.group(3)
        if pid not in events:
            events[pid] = []
            order.append(pid)
        pid_events = events[pid]
        if kind == "(":
            pid_events.append(("call", name))
            if name == "execve":
                path = EXECVE_PATH.match(line)
                pending_exec[pid] = path.group(1) if path else None
        if "<unfinished ...>" in line:
            continue
        result = RESULT.search(line)
        value = int(result.group(1)) if result else None
        if name == "execve" and value == 0 and pending_exec.get(pid):
            pid_events.append(("exec", pending_exec.pop(pid)))
        elif name in SPAWNERS and value is not None and value > 0:
            pid_events.append(("spawn", value))
    if not order:
        return {}
    seen, initial, todo = {}, {order[0]: None}, [order[0]]
    while todo:
        pid = todo.pop()
        program = initial[pid]
        for kind, value in events.get(pid, []):
            if kind == "call":
                seen.setdefault(program, set()).add(value)
            elif kind == "exec":
                # /proc/self/exe re-executes the same program (busybox does).
                program = program if value == "/proc/self/exe" else value
            elif value not in initial:
                initial[value] = program
                todo.append(value)
    return seen


def syscalls_of(trace_text, binary):
    """Names of the syscalls made while running `binary` (any path naming the same file)."""
    names = set()
    for program, calls in syscalls_by_program(trace_text).items():
        if program is not None and _same_file(program, binary):
            names |= calls
    return names


def traced_syscalls(argv, tmp_path, name, binary=None, input=None, statuses=(0,), timeout=60):
    """Runs argv under strace -f and returns the syscalls made by `binary` (default argv[0])."""
    out = Path(tmp_path) / f"{name}.strace"
    run = subprocess.run(strace_command(out, argv), input=input, capture_output=True,
                         timeout=timeout, cwd=tmp_path)
    assert run.returncode in statuses, \
        f"{argv} under strace: status {run.returncode}, stderr {run.stderr[-2000:]!r}"
    seen = syscalls_of(out.read_text(errors="replace"), binary or argv[0])
    assert seen, f"{argv}: strace saw no syscall of {binary or argv[0]} (wrong attribution?)"
    return seen


def assert_recall(label, seen, report):
    missed = seen - reported_names(report)
    assert not missed, f"{label}: strace saw {sorted(missed)} which the analyzer did not report"
