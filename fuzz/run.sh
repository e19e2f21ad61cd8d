#!/usr/bin/env bash
# fuzz/run.sh: builds the libFuzzer targets (clang, in a build directory of their own) and runs
# each for a bounded time. Fails on any crash, sanitizer report, leak or hang.
#
#   fuzz/run.sh                      the test command's run: about 60 s in all
#   fuzz/run.sh --long SECONDS       SECONDS per target (e.g. --long 3600 for a night)
#   fuzz/run.sh ... TARGET...        only these targets (elf_fuzz, analyze_fuzz, ...)
#
# Environment: UTX_FUZZ_BUILD  the build directory (default <repo>/build-fuzz)
#              UTX_BUILD       the normal build, whose small test ELF files join the seeds
#              UTX_JOBS        parallel compile jobs (default: the number of cores)
# Exits 77 (ctest: skipped) with a loud message when clang or libFuzzer is missing, and fails
# instead under CI=true.
# Inputs found along the way go to $UTX_FUZZ_BUILD/corpus/TARGET (not the committed seeds
# in fuzz/corpus/TARGET); crashes to $UTX_FUZZ_BUILD/artifacts/, with the command that
# replays them.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${UTX_FUZZ_BUILD:-$REPO/build-fuzz}
MAIN_BUILD=${UTX_BUILD:-$REPO/build}
JOBS=${UTX_JOBS:-$(nproc)}
ALL_TARGETS=(elf_fuzz analyze_fuzz rewrite_fuzz cpio_fuzz minifs_ops_fuzz hypercall_fuzz)
TOTAL_SECONDS=60

per_target=""
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --long)
            [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz/run.sh: --long needs a number of seconds" >&2; exit 2; }
            per_target=$2
            shift 2 ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        -*) echo "fuzz/run.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "fuzz/run.sh: no target $t (${ALL_TARGETS[*]})" >&2; exit 2; }
done
[ -n "$per_target" ] || per_target=$(( TOTAL_SECONDS / ${#targets[@]} ))

# Where it cannot run: a loud skip locally, a failure in CI (CI=true), which must fuzz.
skip() {
    local verdict=SKIPPED status=77
    [ "${CI:-}" = true ] && verdict="FAILED (CI=true: the fuzz test must run)" status=1
    echo "================================================================================" >&2
    echo "fuzz/run.sh: $verdict: $*" >&2
    echo "  (./do install installs clang-14 and libclang-rt-14-dev, which the fuzzers need)" >&2
    echo "================================================================================" >&2
    exit $status
}

CLANGXX=$(command -v clang++ || command -v clang++-14 || true)
CLANG=$(command -v clang || command -v clang-14 || true)
[ -n "$CLANGXX" ] && [ -n "$CLANG" ] || skip "clang is not installed"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/t.cpp"
"$CLANGXX" -fsanitize=fuzzer,address,undefined "$probe/t.cpp" -o "$probe/t" 2>"$probe/err" ||
    skip "clang cannot link a libFuzzer target ($(head -n1 "$probe/err"))"

echo "fuzz/run.sh: building the fuzz targets in $BUILD (clang, ASan+UBSan+libFuzzer)"
mkdir -p "$BUILD"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$REPO" -B "$BUILD" -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_CXX_COMPILER="$CLANGXX" \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" \
        -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
        -DUTX_FUZZ=ON -DUTX_SANITIZE=fuzzer-no-link,address,undefined >"$BUILD/configure.log" 2>&1 || {
        cat "$BUILD/configure.log"; rm -f "$BUILD/CMakeCache.txt"; exit 1; }
fi
cmake --build "$BUILD" --target utx_fuzzers -j"$JOBS" >"$BUILD/build.log" 2>&1 || {
    tail -n 60 "$BUILD/build.log"; echo "fuzz/run.sh: the build failed (log: $BUILD/build.log)"; exit 1; }

# Small ELF files of the normal build join the ELF targets' seeds (they are not committed).
extra_seeds() {
    case "$1" in
        elf_fuzz|analyze_fuzz|rewrite_fuzz)
            local dir="$BUILD/build-seeds"
            mkdir -p "$dir"
            for f in "$MAIN_BUILD/binary-analyzer/tests/patterns_x86_64" \
                     "$MAIN_BUILD/binary-analyzer/tests/patterns_riscv64" \
                     "$MAIN_BUILD/rewriter/tests/sites_x86_64"; do
                [ -f "$f" ] && cp "$f" "$dir/"
            done
            echo "$dir" ;;
    esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$BUILD/artifacts" "$BUILD/logs"
# The fuzzers' scratch files (host-mount trees, --copy sources), left behind by a crash.
export TMPDIR="$BUILD/tmp"
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"
failed=()
echo "fuzz/run.sh: ${#targets[@]} targets, ${per_target} s each"
for t in "${targets[@]}"; do
    corpus="$BUILD/corpus/$t"
    mkdir -p "$corpus"
    seeds=("$REPO/fuzz/corpus/$t")
    extra=$(extra_seeds "$t")
    [ -n "$extra" ] && seeds+=("$extra")
    log="$BUILD/logs/$t.log"
    status=0
    # -timeout: one input may take this long; -rss_limit_mb / -malloc_limit_mb: bad input
    # must not make the tools allocate gigabytes.
    "$BUILD/fuzz/$t" -max_total_time="$per_target" -timeout=20 -rss_limit_mb=2560 \
        -malloc_limit_mb=512 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" \
        "$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n1 || true)
    if [ "$status" -eq 0 ]; then
        printf '  %-16s ok: %s runs, %s/s, %s, peak RSS %s MB\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${rss:-?}"
    else
        failed+=("$t")
        echo "  $t FAILED (status $status): the end of $log:"
        grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse|INITED)' "$log" | tail -n 50 | sed 's/^/    /'
        artifact=$(ls -t "$BUILD/artifacts/$t-"* 2>/dev/null | head -n1 || true)
        [ -n "$artifact" ] && echo "  replay: $BUILD/fuzz/$t $artifact"
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz/run.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz/run.sh: no crash"
