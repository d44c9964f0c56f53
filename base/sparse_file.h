// Sparse files: crash-state images are tens of MiB with a few MiB of data, on tmpfs (memory). Copies
// follow the source's data extents (SEEK_DATA/SEEK_HOLE) so holes stay holes, and move bytes with
// copy_file_range (no trip through user space; plain reads and writes where it is refused).
#pragma once

#include <cstdint>
#include <functional>

#include "base/status.h"

namespace torn {

// Calls f(offset, length) for each data extent of fd inside [from, to), in order, clipped to it.
Status ForEachDataExtent(int fd, uint64_t from, uint64_t to,
                         const std::function<Status(uint64_t offset, uint64_t length)>& f);

// Copies the data extents of src's [src_offset, src_offset + length) to dst at dst_offset; dst's bytes
// under src's holes are left as they are.
Status CopyDataRange(int src, uint64_t src_offset, int dst, uint64_t dst_offset, uint64_t length);

// Makes dst's first `bytes` equal to src's: src's data copied over dst's pages, every other range of
// dst punched to a hole (zeros where the file system has no holes); dst is sized to `bytes`.
Status SparseCopy(int src, int dst, uint64_t bytes);

}  // namespace torn
