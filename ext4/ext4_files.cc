#include "ext4/ext4_files.h"

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "base/fd.h"
#include "base/file_io.h"

namespace torn::ext4 {

struct Ext4Image::Impl {
  ext2_filsys fs = nullptr;
  ~Impl() {
    if (fs) ext2fs_close_free(&fs);
  }
};

namespace {

std::string ErrorText(errcode_t err) { return error_message(err); }

void InitErrorTables() {
  static std::once_flag once;
  std::call_once(once, [] { initialize_ext2_error_table(); });
}

std::string Hex(const unsigned char* md, unsigned len) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return out;
}

}  // namespace

Ext4Image::Ext4Image(Ext4Image&&) noexcept = default;
Ext4Image::~Ext4Image() = default;

Result<Ext4Image> Ext4Image::Open(const std::string& path) {
  InitErrorTables();
  Ext4Image img;
  img.impl_ = std::make_unique<Impl>();
  // 64-bit block numbers; do not fail on an unsupported read-only feature or a journal to replay.
  int flags = EXT2_FLAG_64BITS | EXT2_FLAG_FORCE | EXT2_FLAG_IGNORE_CSUM_ERRORS;
  errcode_t err = ext2fs_open2(path.c_str(), nullptr, flags, 0, 0, unix_io_manager, &img.impl_->fs);
  if (err) {
    img.impl_->fs = nullptr;
    return BadInput(path + ": libext2fs cannot open the file system: " + ErrorText(err));
  }
  return img;
}

FileFacts Ext4Image::Stat(const std::string& path, bool with_md5) const {
  FileFacts f;
  ext2_filsys fs = impl_->fs;
  ext2_ino_t ino = EXT2_ROOT_INO;
  if (!path.empty() && path != ".") {
    errcode_t err = ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path.c_str(), &ino);
    if (err) {
      f.error = ErrorText(err);
      return f;
    }
  }
  struct ext2_inode inode;
  if (errcode_t err = ext2fs_read_inode(fs, ino, &inode)) {
    f.error = "inode " + std::to_string(ino) + ": " + ErrorText(err);
    return f;
  }
  if (LINUX_S_ISDIR(inode.i_mode)) {
    f.kind = FileFacts::Kind::kDirectory;
    return f;
  }
  if (!LINUX_S_ISREG(inode.i_mode)) {
    f.kind = FileFacts::Kind::kOther;
    return f;
  }
  f.kind = FileFacts::Kind::kRegular;
  f.size = EXT2_I_SIZE(&inode);
  if (!with_md5) return f;

  ext2_file_t file = nullptr;
  if (errcode_t err = ext2fs_file_open(fs, ino, 0, &file)) {
    f.error = "inode " + std::to_string(ino) + ": open: " + ErrorText(err);
    return f;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr);
  std::vector<char> buf(1 << 16);
  uint64_t total = 0;
  while (total < f.size) {
    unsigned int got = 0;
    errcode_t err = ext2fs_file_read(file, buf.data(), static_cast<unsigned>(buf.size()), &got);
    if (err) {
      f.error = "inode " + std::to_string(ino) + ": read at byte " + std::to_string(total) + ": " +
                ErrorText(err);
      break;
    }
    if (got == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), got);
    total += got;
  }
  ext2fs_file_close(file);
  if (f.error.empty() && total != f.size)
    f.error = "read " + std::to_string(total) + " of " + std::to_string(f.size) + " bytes";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  f.md5 = Hex(md, len);
  return f;
}

Status Ext4Image::CopyOut(const std::string& path, const std::string& out) const {
  ext2_filsys fs = impl_->fs;
  ext2_ino_t ino = EXT2_ROOT_INO;
  if (errcode_t err = ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path.c_str(), &ino))
    return Status(Code::kUnavailable, path + ": " + ErrorText(err));
  struct ext2_inode inode;
  if (errcode_t err = ext2fs_read_inode(fs, ino, &inode))
    return BadInput(path + ": inode " + std::to_string(ino) + ": " + ErrorText(err));
  if (!LINUX_S_ISREG(inode.i_mode)) return Status(Code::kUnavailable, path + ": not a regular file");
  uint64_t size = EXT2_I_SIZE(&inode);
  TORN_ASSIGN_OR_RETURN(UniqueFd dst, OpenFile(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (::ftruncate(dst.get(), static_cast<off_t>(size)) != 0) return ErrnoError("size " + out, errno);

  // Walk the file's logical blocks; a block with no physical block (a hole) or an unwritten extent
  // (reads as zeros) is skipped, the others are read from the image and written at their offset.
  const unsigned bs = fs->blocksize;
  const blk64_t blocks = (size + bs - 1) / bs;
  std::vector<char> buf(bs);
  for (blk64_t lblk = 0; lblk < blocks; ++lblk) {
    blk64_t pblk = 0;
    int ret_flags = 0;
    if (errcode_t err = ext2fs_bmap2(fs, ino, &inode, nullptr, 0, lblk, &ret_flags, &pblk))
      return BadInput(path + ": block map at file block " + std::to_string(lblk) + ": " + ErrorText(err));
    if (pblk == 0 || (ret_flags & BMAP_RET_UNINIT)) continue;
    if (errcode_t err = io_channel_read_blk64(fs->io, pblk, 1, buf.data()))
      return BadInput(path + ": read of block " + std::to_string(pblk) + ": " + ErrorText(err));
    uint64_t off = uint64_t(lblk) * bs;
    size_t n = static_cast<size_t>(std::min<uint64_t>(bs, size - off));
    bool zero = std::all_of(buf.begin(), buf.begin() + n, [](char c) { return c == 0; });
    if (zero) continue;
    TORN_RETURN_IF_ERROR(PwriteFull(dst.get(), std::span(reinterpret_cast<const std::byte*>(buf.data()), n), off)
                             .with_context("write " + out));
  }
  return Status::Ok();
}

}  // namespace torn::ext4
