#!/bin/sh
# Times utx-analyze --json and prints the best and median of N runs in seconds, with the
# resolution share. The issue's targets: busybox under 1 s, a static redis-server under 2 s.
#   bench/analyze_bench.sh [path/to/utx-analyze] [binary] [runs]
# Without a binary: /bin/busybox, /bin/bash-static if installed, and the static musl
# redis-server that binary-analyzer/tests/build_redis.sh builds (UTX_REDIS_SERVER, default
# build-analyzer/redis-src/redis-server; built here if missing and the source can be had).
# Figures measured on the project's machine: bench/analyze_results.md.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
analyze=${1:-$root/build-analyzer/binary-analyzer/utx-analyze}
runs=${3:-5}
[ -x "$analyze" ] || { echo "analyze_bench: $analyze not built" >&2; exit 2; }

if [ -n "${2:-}" ]; then
    set -- "$2"
else
    set -- /bin/busybox
    [ -x /bin/bash-static ] && set -- "$@" /bin/bash-static
    redis=${UTX_REDIS_SERVER:-$root/build-analyzer/redis-src/redis-server}
    if [ ! -x "$redis" ] && [ -z "${UTX_REDIS_SERVER:-}" ]; then
        "$root/binary-analyzer/tests/build_redis.sh" "$(dirname "$redis")" >/dev/null || true
    fi
    if [ -x "$redis" ]; then
        set -- "$@" "$redis"
    else
        echo "analyze_bench: no static redis-server ($redis): skipped" >&2
    fi
fi
for binary in "$@"; do
    [ -r "$binary" ] || { echo "analyze_bench: $binary not readable" >&2; exit 2; }
done

exec python3 - "$analyze" "$runs" "$@" <<'PY'
import json, os, statistics, subprocess, sys, time
analyze, runs, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for binary in binaries:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        run = subprocess.run([analyze, "--json", binary], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if run.returncode not in (0, 1):
            sys.exit(f"analyze_bench: utx-analyze failed on {binary}: {run.stderr.strip()}")
        out = run.stdout
    report = json.loads(out)
    r = report["resolution"]
    size = os.path.getsize(binary) / 1e6
    print(f"utx-analyze {binary} ({size:.1f} MB): best {min(times):.3f} s, median "
          f"{statistics.median(times):.3f} s over {runs} runs ({r['resolved']}/{r['sites']} sites "
          f"resolved, {r['share']:.1%}; {len(report['syscalls'])} syscalls)")
PY
