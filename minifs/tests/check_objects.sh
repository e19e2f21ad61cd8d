#!/bin/sh
# minifs/tests/check_objects.sh OBJ...: the kernel-side objects, linked together, import only
# the C freestanding memory functions and register no global constructors or destructors.
set -e
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ld -r -o "$tmp/minifs.o" "$@"
status=0
extra=$(nm -u "$tmp/minifs.o" | awk '{print $2}' | grep -v -x -e memcpy -e memset -e memcmp -e memmove || true)
if [ -n "$extra" ]; then
    echo "minifs needs symbols the kernel does not provide:"
    echo "$extra"
    status=1
fi
if readelf -S -W "$tmp/minifs.o" | grep -q -e '\.init_array' -e '\.ctors' -e '\.fini_array' -e '\.dtors'; then
    echo "minifs has global constructors or destructors"
    status=1
fi
[ "$status" = 0 ] && echo "$# objects self-contained"
exit $status
