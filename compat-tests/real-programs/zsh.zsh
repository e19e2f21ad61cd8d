# zsh-static: functions, recursion through command substitution, arrays, associative
# arrays, parameter expansion flags, globbing with qualifiers, pipelines, here-documents.
setopt extendedglob
fib() { (( $1 < 2 )) && { print $1; return }; print $(( $(fib $(( $1 - 1 ))) + $(fib $(( $1 - 2 ))) )) }
print "fib 10 = $(fib 10)"
typeset -A colour
colour=(apple red banana yellow cherry red)
for k in ${(ko)colour}; do print "$k is $colour[$k]"; done
print "red ones: ${(o)${(k)colour[(R)red]}}"
words=(delta alpha charlie bravo)
print "sorted: ${(o)words[@]}  upper: ${(U)words[1]}  count: $#words"
print "joined: ${(j:-:)words}  split: ${(s:,:)${:-a,b,c}}"
mkdir -p d/sub
for i in 1 2 3; do print "line $i" > d/f$i.txt; done
print -l d/*.txt(.on)
print "dirs: " d/*(/)
cat_lines() { while read -r l; do print "read: $l"; done }
cat_lines < d/f2.txt
print "piped: $(print -l c b a | sort | head -n 2 | tr '\n' ' ')"
n=0; print -l x y z | while read -r v; do (( n++ )); done; print "lastpipe count: $n"
cat <<END
here $((6 * 7)) ${words[2]}
END
(exit 3); print "status $?"
[[ "abc123" == (#b)([a-z]##)([0-9]##) ]] && print "match: $match[1] / $match[2]"
print ${${:-hello world}//o/0}
printf '%05.2f|%-4s|%x\n' 3.14159 ab 255
