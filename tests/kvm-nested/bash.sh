# tests/kvm-nested/bash.sh: bash-static with functions, recursion through command
# substitution, associative arrays, process substitution, mapfile, regexes and external
# commands, run natively and under utx-run (every subshell and command a VM of its own).
B=./bin/busybox
fib() {
    local n=$1
    if (( n < 2 )); then echo "$n"; return; fi
    echo $(( $(fib $((n - 1))) + $(fib $((n - 2))) ))
}
echo "fib 8 = $(fib 8)"
declare -A colour=([apple]=red [banana]=yellow [cherry]=dark)
for k in $(printf '%s\n' "${!colour[@]}" | $B sort); do echo "$k is ${colour[$k]}"; done
mapfile -t lines < <($B seq 3 5)
echo "mapfile: ${#lines[@]} lines, last ${lines[2]}"
while read -r a b; do echo "pair $b $a"; done < <(printf '1 one\n2 two\n')
$B diff <(printf 'a\nb\n') <(printf 'a\nc\n') | $B grep '^[-+][a-z]'
for word in alpha beta42 gamma7; do
    if [[ $word =~ ^([a-z]+)([0-9]+)$ ]]; then echo "$word: ${BASH_REMATCH[1]} then ${BASH_REMATCH[2]}"; fi
done
count=$($B ls cases | $B grep -c '\.sh$')
echo "external: $count"
x=$( ( echo inner; exit 3 ) ); echo "subshell said $x, status $?"
set -o pipefail
false | true
echo "pipefail status $?"
trap 'echo "exit trap"' EXIT
