// The mount oracle's guest job and its report parser; the contract is in mount_vm_job.h.
#include "oracles/mount_vm_job.h"

#include <optional>

#include "lab/report_line.h"

namespace torn::oracles {
namespace {

// Runs as `sh /job/run.sh` in the lab VM (busybox sh; util-linux's losetup by its full path).
constexpr const char* kRun = R"RUN(# torn mount oracle: guest job (oracles/mount_vm_job.h)
. /job/config
R=$TORN_REPORT
say() { echo "$*" > $R; }
# send TAG I FILE: each line of FILE as "TAG I line" on the report channel.
send() { while IFS= read -r l || [ -n "$l" ]; do echo "$1 $2 $l"; done < "$3" > $R; }
# A locked CPU panics (the host sees it) instead of hanging the boot.
echo 1 > /proc/sys/kernel/softlockup_panic 2>/dev/null
watchdog() {
  trap 'kill $s 2>/dev/null; exit 0' TERM
  sleep "$LIMIT" & s=$!
  wait $s
  echo "TORN-MOUNT-HUNG $1" > $R
  echo "@@torn: image $1: no answer in $LIMIT s, powering off"
  poweroff -f
}
# walk DIR: readdir and lstat of every entry, read of every file and symlink (mount_vm_job.h); prints
# the number of entries.
walk() {
  n=$(find "$1" -xdev | wc -l)
  find "$1" -xdev -type f -exec cat {} + > /dev/null
  find "$1" -xdev -type l -exec ls -l {} + > /dev/null
  echo $n
}
while read -r i off size; do
  say "TORN-MOUNT-BEGIN $i"
  echo "@@torn: image $i"
  watchdog "$i" & wd=$!
  dmesg -c > /dev/null
  if ! loop=$(/usr/sbin/losetup -f --show -o "$off" --sizelimit "$size" /dev/vda 2>/tmp/err); then
    echo "losetup -o $off --sizelimit $size failed" >> /tmp/err
    send TORN-MOUNT-SETUP "$i" /tmp/err; kill $wd; exit 3
  fi
  [ "$i" = "$PANIC_AT" ] && echo c > /proc/sysrq-trigger
  [ "$i" = "$HANG_AT" ] && sleep 100000
  mount -t ext4 -o "$MOUNT_OPTS" "$loop" /mnt 2>/tmp/err
  mrc=$?
  send TORN-MOUNT-ERR "$i" /tmp/err
  urc=-1
  if [ $mrc -eq 0 ] && [ "$WALK" = 1 ]; then
    n=$(walk /mnt 2>/tmp/err)
    send TORN-MOUNT-WALK-ERR "$i" /tmp/err
    say "TORN-MOUNT-WALKED $i $n"
  fi
  if [ $mrc -eq 0 ]; then
    umount /mnt 2>/tmp/err
    urc=$?
    send TORN-UMOUNT-ERR "$i" /tmp/err
  fi
  if ! /usr/sbin/losetup -d "$loop" 2>/tmp/err; then
    echo "losetup -d $loop failed" >> /tmp/err
    send TORN-MOUNT-SETUP "$i" /tmp/err; kill $wd; exit 3
  fi
  sync
  dmesg > /tmp/kmsg
  send TORN-MOUNT-KMSG "$i" /tmp/kmsg
  kill $wd
  say "TORN-MOUNT-END $i $mrc $urc"
done < /job/images
exit 0
)RUN";

}  // namespace

std::string MountJobScript() { return kRun; }

std::vector<lab::GuestFile> MountJobFiles(std::span<const PackedImage> images, const MountJobConfig& c) {
  std::string list;
  for (size_t i = 0; i < images.size(); ++i) {
    list += std::to_string(i) + " " + std::to_string(images[i].offset) + " " +
            std::to_string(images[i].bytes) + "\n";
  }
  std::string config = "LIMIT=" + std::to_string(c.image_timeout.count()) + "\n" +
                       "MOUNT_OPTS=" + kVmMountOptions + "\n" +
                       "WALK=" + (c.walk ? "1" : "0") + "\n" +
                       "PANIC_AT=" + std::to_string(c.panic_at) + "\n" +
                       "HANG_AT=" + std::to_string(c.hang_at) + "\n";
  return {{"images", list}, {"config", config}};
}

Result<std::vector<ImageReport>> ParseMountReport(std::string_view text, size_t images) {
  std::vector<ImageReport> r(images);
  size_t line_no = 0, begun = 0;
  while (!text.empty()) {
    std::string_view line = lab::NextLine(text);
    ++line_no;
    std::string_view rest = line;
    std::string_view tag = lab::NextWord(rest);
    if (!tag.starts_with("TORN-MOUNT-") && tag != "TORN-UMOUNT-ERR") continue;
    auto bad = [&](const std::string& why) {
      return BadInput("mount job report line " + std::to_string(line_no) + ": " + why + ": " +
                      std::string(line));
    };
    auto index = lab::WholeNumber<int64_t>(lab::NextWord(rest));
    if (!index || *index < 0 || uint64_t(*index) >= images) return bad("no such image");
    ImageReport& img = r[size_t(*index)];
    if (tag == "TORN-MOUNT-BEGIN") {
      if (size_t(*index) != begun) return bad("images begun out of order");
      img.began = true;
      ++begun;
      continue;
    }
    if (!img.began) return bad("a line about an image not begun");
    if (img.ended) return bad("a line about an image already ended");
    if (tag == "TORN-MOUNT-END") {
      auto m = lab::WholeNumber<int64_t>(lab::NextWord(rest));
      auto u = lab::WholeNumber<int64_t>(rest);
      if (!m || !u) return bad("bad exit statuses");
      img.ended = true;
      img.mount_rc = int(*m);
      img.umount_rc = int(*u);
    } else if (tag == "TORN-MOUNT-HUNG") {
      img.hung = true;
    } else if (tag == "TORN-MOUNT-SETUP") {
      img.setup_errors.emplace_back(rest);
    } else if (tag == "TORN-MOUNT-ERR") {
      img.mount_errors.emplace_back(rest);
    } else if (tag == "TORN-MOUNT-WALK-ERR") {
      img.walk_errors.emplace_back(rest);
    } else if (tag == "TORN-MOUNT-WALKED") {
      auto n = lab::WholeNumber<int64_t>(rest);
      if (!n) return bad("bad entry count");
      img.walked = *n;
    } else if (tag == "TORN-UMOUNT-ERR") {
      img.umount_errors.emplace_back(rest);
    } else if (tag == "TORN-MOUNT-KMSG") {
      img.kernel.emplace_back(rest);
    } else {
      return bad("unknown line");
    }
  }
  return r;
}

}  // namespace torn::oracles
