#!/bin/sh
# Builds a real program of the list (real-programs.toml) statically from its Debian source
# package, with musl, into BUILD_DIR:
#
#   compat-tests/real-programs/build.sh lua5.4|sqlite3 BUILD_DIR   -> BUILD_DIR/<program>
#
# Idempotent: a program already built there is kept. Nothing is written into the
# repository; the source comes from tools/debian-source.sh (which may add a deb-src entry
# derived from the system's own apt entry). The path is the last line of stdout.
# Exit status: 0 built or cached, 77 the source or a tool cannot be had (the reason on
# stderr: the test skips with it), 2 bad usage, anything else a build failure.
set -eu

name=${1:-}
dir=${2:-}
case "$name" in
    lua5.4) out=$dir/lua ;;
    sqlite3) out=$dir/sqlite3 ;;
    *) echo "usage: build.sh lua5.4|sqlite3 BUILD_DIR" >&2; exit 2 ;;
esac
[ -n "$dir" ] || { echo "usage: build.sh lua5.4|sqlite3 BUILD_DIR" >&2; exit 2; }

skip() { echo "build.sh: SKIP: $*" >&2; exit 77; }

if [ -x "$out" ]; then
    echo "$out"
    exit 0
fi
command -v musl-gcc >/dev/null || skip "musl-gcc not found (apt-get install musl-tools)"
mkdir -p "$dir"
here=$(cd "$(dirname "$0")" && pwd)
rc=0
tree=$(sh "$here/../../tools/debian-source.sh" "$name" "$dir/src") || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && skip "the $name source cannot be had"; exit "$rc"; }
work=$dir/work-$name
rm -rf "$work"
mkdir -p "$work"
log=$dir/build-$name.log
echo "build.sh: building $(basename "$tree") with musl-gcc -static (log: $log)" >&2

case "$name" in
    lua5.4)
        # Debian's luaconf.h includes a header its rules write at configure time.
        printf '#define DEB_HOST_MULTIARCH "x86_64-linux-gnu"\n' > "$work/lua5.4-deb-multiarch.h"
        srcs=$(ls "$tree"/src/*.c | grep -v -e '/luac\.c$' -e '/onelua\.c$')
        # shellcheck disable=SC2086
        musl-gcc -std=gnu99 -O2 -DLUA_COMPAT_5_3 -DLUA_USE_POSIX -I"$work" -static \
            -o "$work/lua" $srcs -lm >"$log" 2>&1 || { tail -n 20 "$log" >&2; exit 1; }
        built=$work/lua ;;
    sqlite3)
        # The canonical tree makes the amalgamation (sqlite3.c, shell.c) with tclsh.
        command -v tclsh >/dev/null || skip "tclsh not found (apt-get install tcl)"
        { (cd "$work" && "$tree/configure" --disable-tcl && make sqlite3.c shell.c) &&
          musl-gcc -O1 -static -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
              -DHAVE_USLEEP -o "$work/sqlite3" "$work/shell.c" "$work/sqlite3.c" -lm
        } >"$log" 2>&1 || { tail -n 20 "$log" >&2; exit 1; }
        built=$work/sqlite3 ;;
esac
cp "$built" "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$work"
echo "$out"
