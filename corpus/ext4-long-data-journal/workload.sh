# torn corpus ext4-long-data-journal: ext4-long's workload on ext4 mounted data=journal.
# create, append, overwrite, replace-via-rename, rename over an existing name and across directories,
# unlink, a hard link, truncate, mkdir/rmdir, fsync of files and of a directory; a manifest (sync + mark)
# after each step
#
# step 1: a small tree, a config written and fsync'ed, a data file
mkdir -p $MNT/etc $MNT/var/log $MNT/data
echo "version=1" > $MNT/etc/app.conf
fsync $MNT/etc/app.conf
mark fsync-conf
dd if=/dev/urandom of=$MNT/data/a.bin bs=4k count=16 2>/dev/null
manifest step-1
# step 2: a log grows by appends (fsync'ed as it goes), a second data file, a hard link to the first
for i in 1 2 3 4 5 6; do
  echo "event $i: something happened" >> $MNT/var/log/app.log
done
fsync $MNT/var/log/app.log
mark fsync-log
dd if=/dev/urandom of=$MNT/data/b.bin bs=4k count=24 2>/dev/null
ln $MNT/data/a.bin $MNT/var/a.link
manifest step-2
# step 3: the config replaced the careful way (write a temporary, fsync it, rename over the old name,
# fsync the directory); an overwrite in the middle of a data file
echo "version=2" > $MNT/etc/app.conf.tmp
echo "mode=fast" >> $MNT/etc/app.conf.tmp
fsync $MNT/etc/app.conf.tmp
mv $MNT/etc/app.conf.tmp $MNT/etc/app.conf
fsync $MNT/etc
mark fsync-etc
dd if=/dev/urandom of=$MNT/data/a.bin bs=4k seek=4 count=4 conv=notrunc 2>/dev/null
manifest step-3
# step 4: a data file renamed across directories and over an existing name, an unlink, a truncate, more
# appends
dd if=/dev/urandom of=$MNT/var/b.new bs=4k count=8 2>/dev/null
mv $MNT/data/b.bin $MNT/var/b.bin
mv $MNT/var/b.new $MNT/var/b.bin
rm $MNT/var/a.link
truncate -s 20000 $MNT/data/a.bin
echo "event 7: rotated" >> $MNT/var/log/app.log
fdatasync $MNT/var/log/app.log
mark fdatasync-log
manifest step-4
# step 5: a scratch directory filled, read back and removed; a log rotation by rename
mkdir $MNT/tmp
for i in 1 2 3 4; do
  dd if=/dev/urandom of=$MNT/tmp/part$i bs=1k count=12 2>/dev/null
done
cat $MNT/tmp/part1 $MNT/tmp/part2 $MNT/tmp/part3 $MNT/tmp/part4 > $MNT/data/joined.bin
rm $MNT/tmp/part1 $MNT/tmp/part2 $MNT/tmp/part3 $MNT/tmp/part4
rmdir $MNT/tmp
mv $MNT/var/log/app.log $MNT/var/log/app.log.1
echo "event 8: new log" > $MNT/var/log/app.log
fsync $MNT/var/log/app.log
manifest step-5
# step 6: the config truncated to zero and rewritten in place, a file grown, a directory renamed
: > $MNT/etc/app.conf
echo "version=3" > $MNT/etc/app.conf
dd if=/dev/urandom of=$MNT/data/joined.bin bs=4k seek=12 count=8 conv=notrunc 2>/dev/null
mv $MNT/data $MNT/store
manifest step-6
# step 7: a small source tree unpacked (files in several new directories), one file fsync'ed
for d in src src/lib src/bin doc; do
  mkdir -p $MNT/$d
  for f in 1 2 3 4; do
    dd if=/dev/urandom of=$MNT/$d/file$f bs=1k count=$((f * 3)) 2>/dev/null
  done
done
fsync $MNT/src/lib/file4
mark fsync-tree
manifest step-7
# step 8: part of the tree removed, a directory moved under another, a file appended to
rm $MNT/src/bin/file1 $MNT/src/bin/file2 $MNT/doc/file3
mv $MNT/doc $MNT/src/doc
echo "see also: lib" >> $MNT/src/doc/file1
rm -r $MNT/src/bin
manifest step-8
