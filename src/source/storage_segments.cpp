#include "fsdpshard/source/storage_segments.h"

#include <algorithm>

#include "fsdpshard/util/error.h"

namespace fsdpshard {

StorageLocation one_segment(uint32_t input, uint64_t offset, uint64_t size, std::optional<uint32_t> crc32) {
  StorageLocation where;
  append_segment(where, input, offset, size, crc32);
  return where;
}

void append_segment(StorageLocation& where, uint32_t input, uint64_t offset, uint64_t length,
                    std::optional<uint32_t> crc32) {
  where.segments.push_back({input, offset, length, where.size, crc32});
  where.size += length;
}

std::vector<SegmentPiece> storage_pieces(const StorageLocation& where, uint64_t first, uint64_t length,
                                         const std::string& what) {
  if (first > where.size || length > where.size - first) {
    throw InputError(what + ": bytes " + std::to_string(first) + "+" + std::to_string(length) +
                     " reach past its storage of " + std::to_string(where.size) + " bytes");
  }
  std::vector<SegmentPiece> pieces;
  if (length == 0) return pieces;
  // The first segment that ends after `first` (segments are in placement order).
  auto it = std::upper_bound(where.segments.begin(), where.segments.end(), first,
                             [](uint64_t pos, const StorageSegment& s) { return pos < s.placement + s.length; });
  uint64_t pos = first;
  const uint64_t end = first + length;
  for (; pos < end && it != where.segments.end(); ++it) {
    const uint64_t from = pos - it->placement;
    const uint64_t take = std::min(it->length - from, end - pos);
    const bool whole = from == 0 && take == it->length;
    pieces.push_back({it->input, it->offset + from, take, whole, whole ? it->crc32 : std::nullopt});
    pos += take;
  }
  return pieces;
}

}  // namespace fsdpshard
