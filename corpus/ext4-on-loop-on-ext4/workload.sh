# torn corpus ext4-on-loop-on-ext4: the stack of the seed discussion. The outer ext4 is the traced
# device ($MNT); the inner ext4 lives in a file on it, attached through a loop device (buffered I/O).
# Marks go after the syncs of both levels: inner-* after syncing the inner file system (its writes
# reach the outer file's page cache), outer-* after syncing the outer one (they reach the disk).
truncate -s 24M $MNT/inner.img
LOOP=$(/usr/sbin/losetup --find --show $MNT/inner.img)
/usr/sbin/mke2fs -q -F -t ext4 $LOOP
mkdir -p /tmp/inner
mount -t ext4 $LOOP /tmp/inner
sync -f /tmp/inner
mark inner-mkfs
sync -f $MNT
mark outer-sync-0
manifest outer-0

mkdir /tmp/inner/dir
echo "inner one" > /tmp/inner/dir/one
fsync /tmp/inner/dir/one
mark inner-fsync-1
dd if=/dev/urandom of=/tmp/inner/blob bs=4k count=16 2>/dev/null
sync -f /tmp/inner
mark inner-step-1
sync -f $MNT
mark outer-sync-1
manifest outer-1

echo "inner two" >> /tmp/inner/dir/one
mv /tmp/inner/blob /tmp/inner/dir/blob
sync -f /tmp/inner
mark inner-step-2
echo "outer file" > $MNT/outer.txt
sync -f $MNT
mark outer-sync-2
manifest outer-2

umount /tmp/inner
/usr/sbin/losetup -d $LOOP
manifest unmounted
