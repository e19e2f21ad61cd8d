#!/usr/bin/env bash
# ./do demo | test | build | install — everything from a fresh Debian 12 machine.
#   demo     install what is missing, build, and boot busybox and a static hello under utx-run
#   test     install what is missing, build, and run every test (what .ci/run calls)
#   build    build only;  install: install the Debian packages only
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
    build-essential cmake googletest libgtest-dev      # toolchain, GoogleTest
    liblief-dev libzydis-dev                           # utx-analyze
    musl-tools busybox-static strace                   # test workloads, recall oracle
    qemu-system-x86                                    # backend where /dev/kvm is missing
    python3-pytest                                     # compat-tests (run by /usr/bin/python3)
    g++-riscv64-linux-gnu                              # riscv64 test snippets for utx-analyze
    bash-static redis-tools dpkg-dev qemu-user         # utx-analyze recall workloads (redis source via apt-get source)
    zsh-static mksh sash tcl                           # compat-tests/real-programs.toml (tcl: sqlite3's amalgamation)
)
# Wanted, not required locally: without them the fuzz test is skipped (loudly). Required in
# CI (CI=true), where the fuzz test fails without them.
OPTIONAL_PACKAGES=(
    clang-14 libclang-rt-14-dev                        # fuzz/run.sh: libFuzzer
)
if [ "${CI:-}" = true ]; then
    PACKAGES+=("${OPTIONAL_PACKAGES[@]}")
    OPTIONAL_PACKAGES=()
fi

missing_of() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}

install_missing() {
    local missing optional
    mapfile -t missing < <(missing_of "${PACKAGES[@]}")
    mapfile -t optional < <(missing_of "${OPTIONAL_PACKAGES[@]}")
    [ ${#missing[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    if [ ${#missing[@]} -gt 0 ]; then
        echo "do: installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    if [ ${#optional[@]} -gt 0 ]; then
        echo "do: installing ${optional[*]} (optional)"
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${optional[@]}" ||
            echo "do: WARNING: could not install ${optional[*]}: the fuzz test will be SKIPPED"
    fi
}

build() {
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j"$(nproc)"
}

demo() {
    install_missing
    build
    local hello=build/compat-tests/bin/glibc-static/hello
    echo "\$ utx-run /bin/busybox echo Hello from busybox inside utx"
    build/loader/utx-run /bin/busybox echo Hello from busybox inside utx
    echo "\$ utx-run $hello"
    build/loader/utx-run "$hello"
    echo "\$ seq 1 100000 | utx-run /bin/busybox sha256sum"
    seq 1 100000 | build/loader/utx-run /bin/busybox sha256sum
}

run_tests() {
    install_missing
    build
    backend=$(build/loader/utx-run --which-backend)
    [ "$backend" = kvm ] ||
        echo "do: WARNING: ${backend#qemu: }: KVM tests are SKIPPED and utx-run uses the QEMU backend"
    command -v clang++ >/dev/null || command -v clang++-14 >/dev/null ||
        echo "do: WARNING: clang is missing: the fuzz test (libFuzzer) is SKIPPED (FAILS with CI=true)"
    # Two entries at a time: the long ones (the compat suite, the nested KVM run, the
    # analyzer's and rewriter's program runs) each keep about one core busy.
    ctest --test-dir build --output-on-failure -j2
}

case "${1:-}" in
    demo) demo ;;
    test) run_tests ;;
    build) install_missing; build ;;
    install) install_missing ;;
    *) echo "usage: ./do demo|test|build|install" >&2; exit 2 ;;
esac
