// Where the bytes of one storage lie, as a list of segments. This is the one place the
// LibTorch loader asks the checkpoint model where bytes are: one segment covering the
// whole storage becomes a zero-copy view of the file; several (a tensor stored in pieces:
// FSDP rank files, DCP chunks) become an owned tensor assembled from them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fsdpshard/source/checkpoint.h"
#include "libtorch/file_mapping.h"

namespace fsdpshard::libtorch {

// A run of a storage's bytes in one input file (fsdpshard/source/checkpoint.h).
using ByteSegment = StorageSegment;

// The segments of `storage`, in placement order, covering [0, storage.nbytes()).
std::vector<ByteSegment> storage_segments(const Checkpoint& ckpt, const StorageRef& storage);

// Copies `segments` into `dst` ([0, nbytes)), each from the mapping `file_of(input)` gives.
// InputError "<what>: …" unless the segments cover [0, nbytes) exactly once (a gap would
// leave uninitialised memory in a tensor) and each lies inside its file (which may have
// changed since it was opened).
void copy_segments(const std::vector<ByteSegment>& segments, uint64_t nbytes,
                   const std::function<const FileMapping&(uint32_t)>& file_of, char* dst, const std::string& what);

}  // namespace fsdpshard::libtorch
