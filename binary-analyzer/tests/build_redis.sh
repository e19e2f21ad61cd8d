#!/bin/sh
# Builds a static redis-server from Debian's redis source package, with musl (musl-gcc
# -static, libc malloc, no TLS, no systemd), for the analyzer's recall test and benchmark.
#
#   binary-analyzer/tests/build_redis.sh BUILD_DIR     -> BUILD_DIR/redis-server
#
# Idempotent: an existing BUILD_DIR/redis-server is kept. Nothing is written into the
# repository. When deb-src is not configured, a deb-src copy of the system's own apt entry
# is added (/etc/apt/sources.list.d/utx-deb-src.sources, derived from debian.sources with
# sed) and apt-get update runs; that needs root or passwordless sudo.
#
# Exit status: 0 built (or already there; the path is the last line of stdout), 77 the
# source or a tool could not be had (the test is skipped, with the reason on stderr),
# anything else a real build failure. Env: UTX_REDIS_JOBS (make -j, default 1).
set -eu

dir=${1:?usage: build_redis.sh BUILD_DIR}
jobs=${UTX_REDIS_JOBS:-1}
out=$dir/redis-server

skip() { echo "build_redis: SKIP: $*" >&2; exit 77; }

if [ -x "$out" ]; then
    echo "build_redis: cached $out ($(cat "$out.info" 2>/dev/null || echo unknown origin))"
    echo "$out"
    exit 0
fi

for tool in apt-get make; do
    command -v "$tool" >/dev/null || skip "$tool not found"
done
command -v dpkg-source >/dev/null || skip "dpkg-source not found (apt-get install dpkg-dev)"
if command -v musl-gcc >/dev/null; then
    cc=musl-gcc
else
    cc=gcc
    echo "build_redis: WARNING: musl-gcc not found (apt-get install musl-tools): building with gcc -static (glibc)" >&2
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
    else return 126
    fi
}

# deb-src: only when apt does not know redis's source package yet.
if ! apt-cache showsrc redis 2>/dev/null | grep -q '^Package: redis$'; then
    if [ -r /etc/apt/sources.list.d/debian.sources ]; then
        src_list=/etc/apt/sources.list.d/utx-deb-src.sources
        entries=$(sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources)
    elif [ -r /etc/apt/sources.list ]; then
        src_list=/etc/apt/sources.list.d/utx-deb-src.list
        entries=$(sed -n 's/^deb /deb-src /p' /etc/apt/sources.list)
    else
        skip "no apt sources to derive a deb-src entry from"
    fi
    echo "build_redis: adding deb-src entries as $src_list and running apt-get update" >&2
    printf '%s\n' "$entries" | as_root tee "$src_list" >/dev/null \
        || skip "cannot write $src_list (needs root or passwordless sudo)"
    as_root timeout 180 apt-get update -qq >&2 \
        || skip "apt-get update failed (no network?)"
    apt-cache showsrc redis 2>/dev/null | grep -q '^Package: redis$' \
        || skip "apt has no source package for redis"
fi

mkdir -p "$dir"
work=$dir/src
if ! ls -d "$work"/redis-*/src >/dev/null 2>&1; then
    rm -rf "$work"
    mkdir -p "$work"
    (cd "$work" && timeout 300 apt-get source -qq redis >&2) \
        || { rm -rf "$work"; skip "apt-get source redis failed (no network?)"; }
fi
tree=$(ls -d "$work"/redis-*/ | head -n 1)
tree=${tree%/}
version=$(basename "$tree")

# Debian's source package keeps redis's vendored deps/ (lua, hiredis, hdr_histogram,
# linenoise, jemalloc): MALLOC=libc leaves jemalloc out, the rest link statically.
echo "build_redis: building $version with $cc -static (make -j$jobs)" >&2
flags="MALLOC=libc CC=$cc LDFLAGS=-static BUILD_TLS=no USE_SYSTEMD=no USE_SYSTEM_JEMALLOC=no"
# shellcheck disable=SC2086
make -C "$tree" -j"$jobs" $flags redis-server >"$dir/build.log" 2>&1 || {
    tail -n 30 "$dir/build.log" >&2
    echo "build_redis: make failed (log: $dir/build.log)" >&2
    exit 1
}
file_type=$(file -b "$tree/src/redis-server" 2>/dev/null || true)
case $file_type in
    *dynamically*) echo "build_redis: $tree/src/redis-server is not static: $file_type" >&2; exit 1 ;;
esac
cp "$tree/src/redis-server" "$out.tmp"
echo "$version, $cc -static, MALLOC=libc" >"$out.info"
mv "$out.tmp" "$out"
echo "build_redis: built $out ($version, $cc -static)" >&2
echo "$out"
