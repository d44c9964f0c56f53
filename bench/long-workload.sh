# torn bench: a longer ext4 trace for bench/check_bench.sh (not committed as a trace: corpus traces stay
# small). 150 files of 128 KiB, each fsync'ed: about 150 jbd2 commits, so about 150 FUA checkpoints
# and ~20 MiB of log after mkfs. Record it (lab VM, ~20 s under TCG):
#   build/cli/torn record --vm --size 64M --workload bench/long-workload.sh --out /dev/shm/torn-long
mkdir -p $MNT/d
i=0
while [ $i -lt 150 ]; do
  dd if=/dev/urandom of=$MNT/d/f$i bs=64k count=2 2>/dev/null
  fsync $MNT/d/f$i
  i=$((i + 1))
done
manifest end
