#!/bin/sh
# Fetches a Debian source package once, for the tests and benchmarks that build or run
# third-party code (redis for the analyzer, busybox's testsuite):
#
#   tools/debian-source.sh PACKAGE DIR     -> DIR/PACKAGE-VERSION (its path, on stdout)
#
# Idempotent: a tree already unpacked in DIR is kept. Nothing is written into the
# repository. When apt knows no source package for PACKAGE, a deb-src copy of the system's
# own apt entry is added (/etc/apt/sources.list.d/utx-deb-src.sources, derived from
# debian.sources with sed, so no host name is written anywhere) and apt-get update runs;
# that needs root or passwordless sudo.
#
# Only the path goes to stdout. Exit status: 0 the tree is there, 77 it cannot be had (no
# network, no root, no such package: the reason on stderr, for the caller to skip with),
# 2 bad usage.
set -eu

pkg=${1:-}
dir=${2:-}
if [ -z "$pkg" ] || [ -z "$dir" ]; then
    echo "usage: debian-source.sh PACKAGE DIR" >&2
    exit 2
fi

skip() { echo "debian-source: SKIP: $*" >&2; exit 77; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
    else return 126
    fi
}

tree=$(ls -d "$dir/$pkg"-[0-9]*/ 2>/dev/null | head -n 1 || true)
if [ -n "$tree" ] && [ -f "$dir/.complete-$pkg" ]; then
    echo "${tree%/}"
    exit 0
fi

command -v apt-get >/dev/null || skip "apt-get not found"
command -v dpkg-source >/dev/null || skip "dpkg-source not found (apt-get install dpkg-dev)"

# deb-src: only when apt does not know the package's source yet.
if ! apt-cache showsrc "$pkg" 2>/dev/null | grep -q "^Package: $pkg\$"; then
    if [ -r /etc/apt/sources.list.d/debian.sources ]; then
        src_list=/etc/apt/sources.list.d/utx-deb-src.sources
        entries=$(sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources)
    elif [ -r /etc/apt/sources.list ]; then
        src_list=/etc/apt/sources.list.d/utx-deb-src.list
        entries=$(sed -n 's/^deb /deb-src /p' /etc/apt/sources.list)
    else
        skip "no apt sources to derive a deb-src entry from"
    fi
    echo "debian-source: adding deb-src entries as $src_list and running apt-get update" >&2
    printf '%s\n' "$entries" | as_root tee "$src_list" >/dev/null \
        || skip "cannot write $src_list (needs root or passwordless sudo)"
    as_root timeout 180 apt-get update -qq >&2 \
        || skip "apt-get update failed (no network?)"
    apt-cache showsrc "$pkg" 2>/dev/null | grep -q "^Package: $pkg\$" \
        || skip "apt has no source package for $pkg"
fi

mkdir -p "$dir"
rm -rf "$dir/$pkg"-[0-9]* "$dir/.complete-$pkg"
(cd "$dir" && timeout 300 apt-get source -qq "$pkg" >&2) \
    || skip "apt-get source $pkg failed (no network?)"
tree=$(ls -d "$dir/$pkg"-[0-9]*/ 2>/dev/null | head -n 1 || true)
[ -n "$tree" ] || skip "apt-get source $pkg unpacked nothing in $dir"
touch "$dir/.complete-$pkg"
echo "${tree%/}"
