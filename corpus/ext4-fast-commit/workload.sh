# torn corpus ext4-fast-commit: ext4 made with -O fast_commit; per-file fsync (served by fast commits),
# a mark after each fsync and a manifest after each full sync.
mkdir $MNT/d
for i in 1 2 3; do
  echo "file $i" > $MNT/d/f$i
  fsync $MNT/d/f$i
  mark fsync-f$i
done
manifest synced-1
echo appended >> $MNT/d/f1
fsync $MNT/d/f1
mark fsync-append
dd if=/dev/urandom of=$MNT/d/big bs=4k count=8 2>/dev/null
fsync $MNT/d/big
mark fsync-big
fdatasync $MNT/d/f2
mark fdatasync-f2
rm $MNT/d/f3
fsync $MNT/d
mark fsync-dir
manifest synced-2
