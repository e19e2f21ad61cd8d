#!/bin/sh
# Times utx-analyze on /bin/busybox (static, ~2 MB) and prints the best and median of N
# runs in seconds. The issue's target is under 1 s.
#   bench/analyze_bench.sh [path/to/utx-analyze] [binary] [runs]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
analyze=${1:-$root/build-analyzer/binary-analyzer/utx-analyze}
binary=${2:-/bin/busybox}
runs=${3:-5}
[ -x "$analyze" ] || { echo "analyze_bench: $analyze not built" >&2; exit 2; }
[ -r "$binary" ] || { echo "analyze_bench: $binary not readable" >&2; exit 2; }

exec python3 - "$analyze" "$binary" "$runs" <<'PY'
import json, statistics, subprocess, sys, time
analyze, binary, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
times, out = [], None
for _ in range(runs):
    start = time.perf_counter()
    run = subprocess.run([analyze, "--json", binary], capture_output=True, text=True)
    times.append(time.perf_counter() - start)
    if run.returncode not in (0, 1):
        sys.exit(f"analyze_bench: utx-analyze failed: {run.stderr.strip()}")
    out = run.stdout
r = json.loads(out)["resolution"]
print(f"utx-analyze {binary}: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
      f"over {runs} runs ({r['resolved']}/{r['sites']} sites resolved, {r['share']:.1%})")
PY
