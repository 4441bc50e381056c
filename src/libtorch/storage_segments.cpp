#include "libtorch/storage_segments.h"

#include <algorithm>
#include <cstring>

#include "fsdpshard/source/storage_segments.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::libtorch {

std::vector<ByteSegment> storage_segments(const Checkpoint& ckpt, const StorageRef& storage) {
  // A record may hold more bytes than the storage the pickle declares, which uses its
  // first nbytes: the pieces of exactly those bytes.
  std::vector<ByteSegment> out;
  uint64_t placement = 0;
  for (const SegmentPiece& piece :
       storage_pieces(ckpt.storage_location(storage), 0, storage.nbytes(), ckpt.path() + ": storage '" + storage.key + "'")) {
    out.push_back({piece.input, piece.offset, piece.length, placement, piece.crc32});
    placement += piece.length;
  }
  return out;
}

void copy_segments(const std::vector<ByteSegment>& segments, uint64_t nbytes,
                   const std::function<const FileMapping&(uint32_t)>& file_of, char* dst, const std::string& what) {
  std::vector<ByteSegment> ordered = segments;
  std::sort(ordered.begin(), ordered.end(),
            [](const ByteSegment& a, const ByteSegment& b) { return a.placement < b.placement; });
  uint64_t covered = 0;  // [0, covered) is written
  for (const ByteSegment& s : ordered) {
    if (s.placement != covered || s.length > nbytes - covered) {
      throw InputError(what + ": its pieces do not cover its " + std::to_string(nbytes) +
                       " bytes exactly once (a piece at byte " + std::to_string(s.placement) + ")");
    }
    const FileMapping& file = file_of(s.input);
    if (!file.contains(s.offset, s.length)) {
      throw InputError(file.path() + ": changed while being read (" + what + " is past its end)");
    }
    if (s.length > 0) std::memcpy(dst + s.placement, file.data() + s.offset, s.length);
    covered += s.length;
  }
  if (covered != nbytes) {
    throw InputError(what + ": its pieces do not cover its " + std::to_string(nbytes) + " bytes exactly once");
  }
}

}  // namespace fsdpshard::libtorch
