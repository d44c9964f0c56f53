// The guest kernel of the lab VM and where it lives on the host.
//
// Default: Debian's linux-image-amd64 (it ships dm-mod, dm-log-writes, loop and the file systems as
// modules). On first use it is fetched from the archive with `apt-get download` (the meta package names
// the versioned one), unpacked with `dpkg -x` and indexed with `depmod -b` into
//   CACHE/kernels/<release>/{root/, vmlinux, kernel.json}
// where CACHE is $TORN_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/torn. A cached kernel is used as is;
// delete the folder to fetch a newer one. Concurrent torn processes serialize on CACHE/kernels/.lock,
// and a kernel appears in the cache only complete (built in a temporary folder, then renamed).
//
// Boot speed: Debian's bzImage is XZ-compressed and decompressing it under TCG costs about 10 s, so the
// uncompressed ELF inside it is extracted once (vmlinux, booted through its PVH entry note) and used as
// the boot image; a kernel whose payload is not XZ boots from the bzImage itself.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace torn::lab {

struct Kernel {
  std::string release;      // "6.1.0-56-amd64"
  std::string boot_image;   // what qemu's -kernel gets: the extracted vmlinux, or the bzImage
  std::string vmlinuz;      // the original image
  std::string modules_dir;  // .../lib/modules/<release>; empty when there are no modules
  std::string description;  // "Debian linux-image-6.1.0-56-amd64 6.1.192-2"
};

using Progress = std::function<void(std::string_view)>;

// $TORN_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/torn (created on demand by the users).
std::string CacheRoot();

// Debian's kernel from the cache, fetched the first time. `progress` hears what takes long.
Result<Kernel> DebianKernel(const Progress& progress);

// A kernel the user names (--kernel): a bzImage or an ELF vmlinux. Its modules are looked for beside it
// the way a package unpacks (BOOTDIR/../lib/modules/<release>) and then in /lib/modules/<release>,
// where <release> comes from the file name "vmlinuz-<release>".
Result<Kernel> KernelFromImage(const std::string& image, const Progress& progress);

// Offset of the XZ payload in a bzImage, or npos when the file has none.
size_t FindXzPayload(std::string_view image);

}  // namespace torn::lab
