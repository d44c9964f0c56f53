#include "ext4/ext2_view.h"

#include <et/com_err.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <span>
#include <string>

namespace torn::ext4 {
namespace {

// The channel's private data.
struct ViewChannel {
  ImageView* view = nullptr;
};

ImageView* ViewOf(io_channel ch) { return static_cast<ViewChannel*>(ch->private_data)->view; }

errcode_t ViewOpen(const char* name, int flags, io_channel* out);

errcode_t ViewClose(io_channel ch) {
  if (--ch->refcount > 0) return 0;
  delete static_cast<ViewChannel*>(ch->private_data);
  ext2fs_free_mem(&ch->name);
  ext2fs_free_mem(&ch);
  return 0;
}

errcode_t ViewSetBlksize(io_channel ch, int blksize) {
  ch->block_size = blksize;
  return 0;
}

// count > 0: blocks of the channel's block size; count < 0: -count bytes (libext2fs's convention).
errcode_t ViewRead64(io_channel ch, unsigned long long block, int count, void* data) {
  uint64_t bytes = count < 0 ? uint64_t(-int64_t(count)) : uint64_t(count) * uint64_t(ch->block_size);
  uint64_t offset = block * uint64_t(ch->block_size);
  Status st = ViewOf(ch)->Read(offset, std::span(static_cast<std::byte*>(data), bytes));
  if (st.ok()) return 0;
  std::memset(data, 0, bytes);
  return EXT2_ET_SHORT_READ;
}

errcode_t ViewRead(io_channel ch, unsigned long block, int count, void* data) {
  return ViewRead64(ch, block, count, data);
}

errcode_t ViewWrite(io_channel, unsigned long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t ViewWrite64(io_channel, unsigned long long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t ViewWriteByte(io_channel, unsigned long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t ViewFlush(io_channel) { return 0; }
errcode_t ViewSetOption(io_channel, const char*, const char*) { return EXT2_ET_INVALID_ARGUMENT; }

struct_io_manager kViewManager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "torn image view",
    .open = ViewOpen,
    .close = ViewClose,
    .set_blksize = ViewSetBlksize,
    .read_blk = ViewRead,
    .write_blk = ViewWrite,
    .flush = ViewFlush,
    .write_byte = ViewWriteByte,
    .set_option = ViewSetOption,
    .get_stats = nullptr,
    .read_blk64 = ViewRead64,
    .write_blk64 = ViewWrite64,
    .discard = nullptr,
    .cache_readahead = nullptr,
    .zeroout = nullptr,
    .reserved = {},
};

// The "name" libext2fs passes to open() is the view's address, as written by OpenExt2.
errcode_t ViewOpen(const char* name, int flags, io_channel* out) {
  if (flags & IO_FLAG_RW) return EXT2_ET_RO_FILSYS;
  void* p = nullptr;
  if (!name || std::sscanf(name, "torn-view:%p", &p) != 1 || !p) return EXT2_ET_BAD_DEVICE_NAME;
  io_channel ch = nullptr;
  if (errcode_t err = ext2fs_get_memzero(sizeof(*ch), &ch)) return err;
  ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  ch->manager = &kViewManager;
  if (errcode_t err = ext2fs_get_mem(std::strlen(name) + 1, &ch->name)) {
    ext2fs_free_mem(&ch);
    return err;
  }
  std::strcpy(ch->name, name);
  ch->block_size = 1024;
  ch->refcount = 1;
  ch->private_data = new ViewChannel{static_cast<ImageView*>(p)};
  *out = ch;
  return 0;
}

}  // namespace

Ext2Fs& Ext2Fs::operator=(Ext2Fs&& o) noexcept {
  if (this != &o) {
    if (fs_) ext2fs_close_free(&fs_);
    fs_ = o.fs_;
    o.fs_ = nullptr;
  }
  return *this;
}

Ext2Fs::~Ext2Fs() {
  if (fs_) ext2fs_close_free(&fs_);
}

std::string Ext2Error(errcode_t err) {
  static std::once_flag once;
  std::call_once(once, [] { initialize_ext2_error_table(); });
  return error_message(err);
}

Result<Ext2Fs> OpenExt2(ImageView& view, int flags) {
  if (flags & EXT2_FLAG_RW) return Internal("OpenExt2: views are read-only");
  char name[64];
  std::snprintf(name, sizeof(name), "torn-view:%p", static_cast<void*>(&view));
  ext2_filsys fs = nullptr;
  errcode_t err = ext2fs_open2(name, nullptr, flags, 0, 0, &kViewManager, &fs);
  if (err) return BadInput("libext2fs cannot open the file system: " + Ext2Error(err));
  return Ext2Fs(fs);
}

}  // namespace torn::ext4
