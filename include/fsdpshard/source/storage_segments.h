// Reading a run of a storage's bytes through its segments (checkpoint.h: StorageLocation):
// a run may start inside one segment and end in another, as a tensor of an FSDP
// parameter reassembled from several rank files does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/plan/plan.h"

namespace fsdpshard {

// A storage that is one run of `size` bytes at `offset` of input `input`.
StorageLocation one_segment(uint32_t input, uint64_t offset, uint64_t size, std::optional<uint32_t> crc32);

// Appends `segment` (its placement is where the location ends so far): segments are
// added in storage order.
void append_segment(StorageLocation& where, uint32_t input, uint64_t offset, uint64_t length,
                    std::optional<uint32_t> crc32);

// The part of one segment that a run of storage bytes covers.
struct SegmentPiece {
  uint32_t input = 0;
  uint64_t offset = 0;  // absolute file offset
  uint64_t length = 0;  // bytes
  bool whole = false;   // the piece is its segment entire
  std::optional<uint32_t> crc32;  // the segment's, when whole
};

// The storage bytes [first, first + length) as file pieces, in order. InputError (naming
// `what`) when the run reaches past the storage.
std::vector<SegmentPiece> storage_pieces(const StorageLocation& where, uint64_t first, uint64_t length,
                                         const std::string& what);

// Appends to `r` the `count` elements of `dtype` starting at byte `first` of the storage.
// InputError when a segment boundary falls inside an element.
void add_storage_run(PlannedRecord& r, const StorageLocation& where, uint64_t first, uint64_t count, DType dtype,
                     const std::string& what);

}  // namespace fsdpshard
