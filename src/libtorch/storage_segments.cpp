#include "libtorch/storage_segments.h"

namespace fsdpshard::libtorch {

// Today a storage is one run of bytes (StorageLocation). When the checkpoint model
// describes storages as lists of segments, this becomes a copy of that list.
std::vector<ByteSegment> storage_segments(const Checkpoint& ckpt, const StorageRef& storage) {
  const StorageLocation where = ckpt.storage_location(storage);
  if (storage.nbytes() == 0) return {};
  return {ByteSegment{where.input, where.offset, storage.nbytes(), 0}};
}

}  // namespace fsdpshard::libtorch
