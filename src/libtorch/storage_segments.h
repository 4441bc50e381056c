// Where the bytes of one storage lie, as a list of segments. This is the one place the
// LibTorch loader asks the checkpoint model where bytes are: one segment covering the
// whole storage becomes a zero-copy view of the file; several (a tensor stored in pieces:
// FSDP rank files, DCP chunks) become an owned tensor assembled from them.
#pragma once

#include <cstdint>
#include <vector>

#include "fsdpshard/checkpoint.h"

namespace fsdpshard::libtorch {

struct ByteSegment {
  uint32_t input = 0;      // index into Checkpoint::inputs()
  uint64_t offset = 0;     // in that file
  uint64_t length = 0;     // bytes
  uint64_t placement = 0;  // byte offset of the segment within the storage
};

// The segments of `storage`, in placement order, covering [0, storage.nbytes()).
std::vector<ByteSegment> storage_segments(const Checkpoint& ckpt, const StorageRef& storage);

}  // namespace fsdpshard::libtorch
