# torn corpus ext4-data-journal: ext4 mounted data=journal (file data goes through the journal).
# writes, fsync, a hard link, truncate, rename and unlink; a manifest (sync + mark) after each step
mkdir -p $MNT/p/q
echo first > $MNT/p/one
fsync $MNT/p/one
mark fsync-1
manifest step-1
dd if=/dev/urandom of=$MNT/p/q/blob bs=4k count=20 2>/dev/null
ln $MNT/p/one $MNT/p/q/one-link
manifest step-2
truncate -s 8192 $MNT/p/q/blob
echo more >> $MNT/p/one
rm $MNT/p/q/one-link
mv $MNT/p/q $MNT/p/r
manifest step-3
