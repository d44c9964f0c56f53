# torn corpus ext4-rsync: ext4 with default options, 512-byte sectors; what rsync does to one directory,
# round after round: each file written to a temporary name (".NAME.N", as rsync's ".NAME.XXXXXX"),
# renamed over the old one (whose inode is unlinked and freed), files of the source that went away
# deleted (--delete), new files added; `sync` after each round, as rsync users run it, with a manifest.
# Round 4 also passes --fsync (rsync >= 3.2.4: fsync each file before its rename). About 500
# operations in /dir; the files are one line each, so the log stays small: what matters is the churn of
# directory entries and inode numbers (the next round's temporaries reuse the inodes freed).
mkdir $MNT/dir
n=0
put() {  # put NAME TEXT [fsync]: rsync's write of one file: a temporary, then a rename over NAME
  n=$((n + 1))
  tmp=$MNT/dir/.$1.$n
  echo "$2" > $tmp
  if [ "$3" = fsync ]; then fsync $tmp; fi
  mv $tmp $MNT/dir/$1
}
# round 1: the first copy, 60 files
for i in $(seq 1 60); do put f$i "round 1 file $i"; done
manifest round-1
# rounds 2-5: a third of the files changed, a few deleted, a few new ones
for r in 2 3 4 5; do
  for i in $(seq $r 3 60); do
    if [ -e $MNT/dir/f$i ]; then put f$i "round $r file $i"; fi
  done
  for i in $(seq $((r * 7)) 11 60); do rm -f $MNT/dir/f$i; done
  for i in $(seq 1 8); do put n$r-$i "round $r new file $i"; done
  if [ $r = 4 ]; then
    for i in $(seq 1 3 60); do
      if [ -e $MNT/dir/f$i ]; then put f$i "round 4 again $i" fsync; fi
    done
  fi
  manifest round-$r
done
