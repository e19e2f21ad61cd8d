#!/bin/sh
# Builds a static redis-server from Debian's redis source package, with musl (musl-gcc
# -static, libc malloc, no TLS, no systemd), for the analyzer's recall test and benchmark.
#
#   binary-analyzer/tests/build_redis.sh BUILD_DIR     -> BUILD_DIR/redis-server
#
# Idempotent: an existing BUILD_DIR/redis-server is kept. Nothing is written into the
# repository. The source comes from tools/debian-source.sh (which may add a deb-src entry
# derived from the system's own; that needs root or passwordless sudo).
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

command -v make >/dev/null || skip "make not found"  # apt's tools: debian-source.sh checks
if command -v musl-gcc >/dev/null; then
    cc=musl-gcc
else
    cc=gcc
    echo "build_redis: WARNING: musl-gcc not found (apt-get install musl-tools): building with gcc -static (glibc)" >&2
fi

# The source, once (deb-src derived from the system's own apt entry when needed).
here=$(cd "$(dirname "$0")" && pwd)
rc=0
tree=$(sh "$here/../../tools/debian-source.sh" redis "$dir/src") || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && skip "the redis source cannot be had"; exit "$rc"; }
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
