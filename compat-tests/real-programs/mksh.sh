# mksh-static (Debian's mksh, built with klibc): functions, arrays, here-documents,
# arithmetic, string operations, pipelines and command substitution across processes.
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
echo "fact 10 = $(fact 10)"
set -A arr one two three
echo "arr: ${arr[*]} (${#arr[*]}) second=${arr[1]}"
s="Hello, World"
echo "len ${#s} lower-less ${s#Hello, } prefix ${s%%,*}"
typeset -u up="$s"; echo "upper: $up"
i=0; while (( i < 5 )); do (( i += 1 )); done; echo "i=$i"
mkdir -p d
for n in 3 1 2; do echo "item $n" > d/$n; done
for f in d/*; do read -r line < "$f"; echo "$f: $line"; done
echo "count: $(for f in d/*; do echo x; done | wc -l)"
while read -r l; do echo "heredoc: $l"; done <<END
here $((2 * 512)) ${arr[2]}
END
echo "sorted: $(printf '%s\n' pear fig apple | sort | tr '\n' ' ')"
case "abc.tar.gz" in *.tar.gz) echo "a tarball";; *) echo "other";; esac
( exit 4 ); echo "status $?"
print -r -- "print: $(( 7 % 3 ))"
