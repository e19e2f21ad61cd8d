# tests/kvm-nested/files.sh: busybox sh with redirections, here-documents, find -exec,
# xargs, traps and kill, run natively and under utx-run: every command is a process (a VM
# under utx), and the files they share live in the family region's minifs; those in the
# host mount (cases/) are host files each VMM holds, with the host's shared offsets.
D=/tmp/utx_sh_files
B=./bin/busybox
$B rm -rf $D
$B mkdir -p $D
(echo a; echo b) > $D/f
$B cat $D/f
echo c >> $D/f
$B wc -l < $D/f
{ echo x; $B echo y; } > $D/g
$B cat $D/g
$B cat <<EOF > $D/h
here $((2 + 3))
doc
EOF
$B cat $D/h
$B touch $D/one $D/two
$B find $D -name 'o*' -exec $B echo found {} \;
$B ls $D | $B xargs $B echo listed
trap 'echo trapped' USR1
kill -USR1 $$
$B sleep 5 &
pid=$!
kill $pid
wait $pid
echo "killed status $?"
(set -e; false; echo not reached)
echo "subshell status $?"
count=0
while read line; do count=$((count + 1)); done < $D/f
echo "read $count"
(echo m1; $B echo m2) > cases/host_out
echo m3 >> cases/host_out
$B cat cases/host_out
$B wc -c < cases/host_out
$B rm cases/host_out
$B rm -rf $D
echo end
