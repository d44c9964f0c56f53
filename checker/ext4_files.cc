#include "checker/ext4_files.h"

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>
#include <openssl/evp.h>

#include <mutex>
#include <vector>

namespace torn::checker {

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

}  // namespace torn::checker
