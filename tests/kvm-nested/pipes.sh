# tests/kvm-nested/pipes.sh: busybox sh pipelines and command substitution, run natively and
# under utx-run (every process a VM of its own; pipes cross VMs through the family region).
B=./bin/busybox
echo hello | $B tr a-z A-Z
x=$(echo sub; $B echo way)
echo "$x"
$B seq 1 5000 | $B grep 7 | $B wc -l
echo a b c | (read x y z; echo $z $y $x)
$B yes | $B head -n 3
n=$($B seq 1 100 | $B wc -l)
echo "lines $n"
$B echo $($B echo nested $($B echo deeper))
f() { echo "f $1"; }
f arg | $B cat
$B seq 1 3 | while read i; do echo "item $i"; done
$B false | $B true
echo "status $?"
echo done
