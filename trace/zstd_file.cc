#include "trace/zstd_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <memory>
#include <vector>

#include "base/interrupt.h"
#include "base/temp_file.h"

namespace torn::trace {
namespace {

struct DctxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

}  // namespace

Result<bool> IsZstd(int fd) {
  std::byte magic[4];
  Status st = PreadFull(fd, magic, 0);
  if (st.code() == Code::kTruncated) return false;
  TORN_RETURN_IF_ERROR(st);
  return magic[0] == std::byte{0x28} && magic[1] == std::byte{0xb5} &&
         magic[2] == std::byte{0x2f} && magic[3] == std::byte{0xfd};
}

Result<UniqueFd> DecompressToAnonymousFile(int compressed_fd) {
  TORN_ASSIGN_OR_RETURN(UniqueFd out, AnonymousFile());
  std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  // A hostile frame could ask for a huge window; 128 MiB is far above what zstd -19 uses by default.
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, 27);
  std::vector<std::byte> in_buf(ZSTD_DStreamInSize()), out_buf(ZSTD_DStreamOutSize());
  uint64_t in_offset = 0, out_offset = 0;
  size_t last = 0;
  for (;;) {
    TORN_RETURN_IF_ERROR(CheckInterrupted());
    ssize_t n = ::pread(compressed_fd, in_buf.data(), in_buf.size(), static_cast<off_t>(in_offset));
    if (n < 0) return ErrnoError("read compressed log", errno);
    if (n == 0) break;
    in_offset += static_cast<uint64_t>(n);
    ZSTD_inBuffer in = {in_buf.data(), static_cast<size_t>(n), 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out_z = {out_buf.data(), out_buf.size(), 0};
      last = ZSTD_decompressStream(dctx.get(), &out_z, &in);
      if (ZSTD_isError(last)) {
        return BadInput(std::string("zstd: ") + ZSTD_getErrorName(last) + " at compressed byte " +
                        std::to_string(in_offset));
      }
      TORN_RETURN_IF_ERROR(PwriteFull(out.get(), std::span(out_buf.data(), out_z.pos), out_offset));
      out_offset += out_z.pos;
    }
  }
  if (last != 0) {
    return Truncated("zstd: compressed log ends in the middle of a frame (at compressed byte " +
                     std::to_string(in_offset) + ")");
  }
  return out;
}

Status CompressFile(int in, const std::string& out_path, int level) {
  TORN_ASSIGN_OR_RETURN(UniqueFd out, OpenFile(out_path, O_WRONLY | O_CREAT | O_TRUNC));
  std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  std::vector<std::byte> in_buf(ZSTD_CStreamInSize()), out_buf(ZSTD_CStreamOutSize());
  uint64_t offset = 0;
  for (;;) {
    TORN_RETURN_IF_ERROR(CheckInterrupted());
    ssize_t n = ::pread(in, in_buf.data(), in_buf.size(), static_cast<off_t>(offset));
    if (n < 0) return ErrnoError("read log", errno);
    offset += static_cast<uint64_t>(n);
    bool last = n == 0;
    ZSTD_inBuffer input = {in_buf.data(), static_cast<size_t>(n), 0};
    ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
    bool done = false;
    while (!done) {
      ZSTD_outBuffer output = {out_buf.data(), out_buf.size(), 0};
      size_t remaining = ZSTD_compressStream2(cctx.get(), &output, &input, mode);
      if (ZSTD_isError(remaining)) return IoError(std::string("zstd: ") + ZSTD_getErrorName(remaining));
      TORN_RETURN_IF_ERROR(WriteFull(out.get(), std::span(out_buf.data(), output.pos)).with_context(out_path));
      done = last ? remaining == 0 : input.pos == input.size;
    }
    if (last) break;
  }
  if (::fsync(out.get()) != 0) return ErrnoError("fsync " + out_path, errno);
  return Status::Ok();
}

}  // namespace torn::trace
