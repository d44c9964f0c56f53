// libext2fs over an ImageView: an io_manager whose channel reads through the view (its overlay and
// its record of reads, image_view.h), so libext2fs can open a recovered image that exists only as a
// file plus the blocks recovery would write, and every block it reads is recorded. Read-only: a
// write through the channel fails (EXT2_ET_RO_FILSYS); torn opens these file systems without
// EXT2_FLAG_RW.
#pragma once

#include <memory>

#include <ext2fs/ext2fs.h>

#include "base/status.h"
#include "ext4/image_view.h"

namespace torn::ext4 {

// An open libext2fs file system; closed (ext2fs_close_free) by the destructor.
class Ext2Fs {
 public:
  Ext2Fs() = default;
  explicit Ext2Fs(ext2_filsys fs) : fs_(fs) {}
  Ext2Fs(Ext2Fs&& o) noexcept : fs_(o.fs_) { o.fs_ = nullptr; }
  Ext2Fs& operator=(Ext2Fs&& o) noexcept;
  ~Ext2Fs();
  ext2_filsys get() const { return fs_; }
  ext2_filsys operator->() const { return fs_; }

 private:
  ext2_filsys fs_ = nullptr;
};

// Opens the file system in `view` (which must outlive the result) with libext2fs, read-only, with
// `flags` (EXT2_FLAG_*; EXT2_FLAG_RW is refused). kBadInput with libext2fs's message when it cannot.
Result<Ext2Fs> OpenExt2(ImageView& view, int flags);

// libext2fs's text for an error code (its error tables loaded once).
std::string Ext2Error(errcode_t err);

}  // namespace torn::ext4
