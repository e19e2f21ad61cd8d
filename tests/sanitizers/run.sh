#!/usr/bin/env bash
# tests/sanitizers/run.sh: the host tools (utx-run, utx-analyze, utx-rewrite, their libraries
# and unit tests) built with AddressSanitizer and UndefinedBehaviorSanitizer in a build
# directory of their own, and a bounded part of the test suite run with them. Any sanitizer
# report fails the run, even one from a tool whose test passed.
#
# What runs, and why (see DEVELOPERS.md; the whole suite would take ten times as long, most
# of it in the guest kernel and in native reference runs, which no host sanitizer sees):
#  - every unit test of the host code (minifs, loader, analyzer, rewriter, syscall table):
#    the decoders, the hypercall handler, host mounts, the root image, fed bad input on purpose;
#  - tests/cli: utx-run as a user meets it: broken and foreign ELF files, bad options, --copy,
#    -v, --trace, guests that fault: the VMM's whole path from options to exit status;
#  - compat-tests/test_host_mounts.py: real guests through the hypercall handler and HostFs;
#  - fork.c (one flavor) and a busybox sh script of pipelines: the VMM's fork, the process
#    table and the family region's wakes, on whichever backend the suite uses;
#  - utx-analyze's recall tests on its own programs (glibc, musl, riscv64, dynamic, busybox,
#    bash) and its CLI errors, not the three flavors of every compat program;
#  - utx-rewrite's tests on busybox and a few programs, utx-run --rewrite, its CLI, not the
#    rewriting and native runs of every compat program.
#
# Environment: UTX_ASAN_BUILD  the build directory (default <repo>/build-asan)
#              UTX_BUILD       the normal build: its kernel is embedded in utx-run (the kernel
#                              is not host code) and its compat programs are the workloads
#              UTX_JOBS        parallel compile jobs (default: the number of cores)
# Exits 77 (ctest: skipped) with a loud message when the compiler cannot build with the
# sanitizers, and fails instead under CI=true.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${UTX_ASAN_BUILD:-$REPO/build-asan}
MAIN_BUILD=${UTX_BUILD:-$REPO/build}
JOBS=${UTX_JOBS:-$(nproc)}
CXX=${CXX:-c++}

# Where it cannot run: a loud skip locally, a failure in CI (CI=true), which must run it.
skip() {
    local verdict=SKIPPED status=77
    [ "${CI:-}" = true ] && verdict="FAILED (CI=true: the sanitizer run must happen)" status=1
    echo "================================================================================" >&2
    echo "tests/sanitizers/run.sh: $verdict: $*" >&2
    echo "================================================================================" >&2
    exit $status
}

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int main() { return 0; }' >"$probe/t.cpp"
"$CXX" -fsanitize=address,undefined "$probe/t.cpp" -o "$probe/t" 2>"$probe/err" && "$probe/t" ||
    skip "$CXX cannot build and run with -fsanitize=address,undefined ($(head -n1 "$probe/err"))"
[ -d "$MAIN_BUILD/compat-tests/bin" ] || skip "no normal build at $MAIN_BUILD (build it first: ./do build)"

echo "tests/sanitizers/run.sh: building the host tools with ASan+UBSan in $BUILD"
mkdir -p "$BUILD"
kernel=()
[ -f "$MAIN_BUILD/kernel/utx-kernel.elf" ] && kernel=(-DUTX_PREBUILT_KERNEL="$MAIN_BUILD/kernel/utx-kernel.elf")
# -O1 and line tables only: this build is compiled at every CI run, and that is what the
# sanitizers' reports need. Debug: with the assertions.
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DUTX_SANITIZE=address,undefined "${kernel[@]}" \
    >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" -j"$JOBS" --target utx-run utx-analyze utx-rewrite minifs_tests \
    utx_loader_tests utx_analyzer_tests utx_rewriter_tests utx_syscall_table_tests \
    >"$BUILD/build.log" 2>&1 || { tail -n 60 "$BUILD/build.log"; echo "the build failed: $BUILD/build.log"; exit 1; }

# Reports go to files as well as stderr, so that one from a tool whose test expected it to
# fail (and so passed) is caught all the same.
reports="$BUILD/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:log_exe_name=1:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:log_exe_name=1:print_stacktrace=1:halt_on_error=1"
export UTX_RUN="$BUILD/loader/utx-run" UTX_ANALYZE="$BUILD/binary-analyzer/utx-analyze"
export UTX_REWRITE="$BUILD/rewriter/utx-rewrite" UTX_COMPAT_BIN="$MAIN_BUILD/compat-tests/bin"
pytest=(/usr/bin/python3 -m pytest -q -p no:cacheprovider)

failed=()
step() {
    local name=$1
    shift
    local start=$SECONDS
    if "$@" >"$BUILD/$name.log" 2>&1; then
        echo "  $name: ok ($((SECONDS - start)) s)"
    else
        failed+=("$name")
        echo "  $name: FAILED ($((SECONDS - start)) s), the end of $BUILD/$name.log:"
        tail -n 40 "$BUILD/$name.log" | sed 's/^/    /'
    fi
}
step minifs_tests "$BUILD/minifs/tests/minifs_tests" --gtest_brief=1
step loader_tests "$BUILD/loader/tests/utx_loader_tests" --gtest_brief=1
step analyzer_tests "$BUILD/binary-analyzer/tests/utx_analyzer_tests" --gtest_brief=1
step rewriter_tests "$BUILD/rewriter/tests/utx_rewriter_tests" --gtest_brief=1
step syscall_table_tests "$BUILD/syscall-shim/tests/utx_syscall_table_tests" --gtest_brief=1
step cli "${pytest[@]}" "$REPO/tests/cli"
step host_mounts "${pytest[@]}" "$REPO/compat-tests/test_host_mounts.py"
step processes "${pytest[@]}" "$REPO/compat-tests/test_processes.py" \
    -k "(test_fork and glibc-static and not stress) or (shell_script and pipes)"
step analyzer_recall "${pytest[@]}" "$REPO/binary-analyzer/tests/test_recall.py" \
    -k "not compat_programs"
step rewriter_programs "${pytest[@]}" "$REPO/rewriter/tests/test_rewrite.py" \
    -k "not runs_the_same_natively and not coverage_of_compat_programs"

if compgen -G "$reports/*" >/dev/null; then
    failed+=(sanitizer-reports)
    echo "  sanitizer reports in $reports:"
    for f in "$reports"/*; do
        echo "  --- $f"
        head -n 40 "$f" | sed 's/^/    /'
    done
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "tests/sanitizers/run.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "tests/sanitizers/run.sh: no sanitizer report, every test passed"
