// Planning side of storage segments: a run of a storage's elements as the segments of a
// PlannedRecord. Its own file so that the readers alone (the fuzz targets' library)
// link without the planner.
#include "fsdpshard/util/error.h"
#include "fsdpshard/source/storage_segments.h"

namespace fsdpshard {

void add_storage_run(PlannedRecord& r, const StorageLocation& where, uint64_t first, uint64_t count, DType dtype,
                     const std::string& what) {
  const uint64_t size = element_size(dtype);
  for (const SegmentPiece& piece : storage_pieces(where, first, count * size, what)) {
    if (piece.length % size != 0) {
      throw InputError(what + ": a " + std::string(torch_name(dtype)) + " element spans two input files' pieces");
    }
    r.add_segment(piece.input, piece.offset, piece.length / size);
  }
}

}  // namespace fsdpshard
