// zstd-compressed logs: detection by the frame magic, streaming decompression into an unlinked
// temporary file (bounded memory: one zstd window and two buffers), and streaming compression for
// `torn import` and the recorder.
#pragma once

#include <string>

#include "base/fd.h"
#include "base/status.h"

namespace torn::trace {

// True when the file starts with a zstd frame (28 b5 2f fd).
Result<bool> IsZstd(int fd);
Result<UniqueFd> DecompressToAnonymousFile(int compressed_fd);
// Compresses all of `in` (from byte 0) into a new file at out_path.
Status CompressFile(int in, const std::string& out_path, int level = 10);

}  // namespace torn::trace
