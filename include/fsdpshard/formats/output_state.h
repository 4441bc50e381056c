// Builds the output state dict of a gather/reshard inside the input's object graph: new
// tensor nodes over new output storages, everything else (the OrderedDict class, its
// `_metadata`, non-tensor values) shared with the input, so it is written back unchanged.
#pragma once

#include <string>
#include <vector>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/plan/plan.h"
#include "fsdpshard/plan/selection.h"

namespace fsdpshard {

struct OutputTensor {
  std::string name;
  DType dtype = DType::UInt8;
  std::vector<int64_t> sizes;
  uint64_t nbytes = 0;
  std::size_t storage = 0;       // index into OutputState::storages
  uint64_t storage_offset = 0;   // elements into that storage
  bool contiguous = true;
  NodeId node = kNoNode;         // the new tensor node
};

struct OutputState {
  NodeId mapping = kNoNode;                 // the new state dict (same type as the input's)
  std::vector<OutputTensor> tensors;        // in output order
  std::vector<PlannedRecord> storages;      // one record per output storage, "data/<k>"
};

// Records name inputs by their index in ckpt.inputs(). Storages used by one
// selected contiguous tensor are compacted to that tensor; storages shared by several
// selected tensors (or holding a non-contiguous view) are copied whole, keeping the
// views' offsets and strides, so sharing survives.
OutputState build_output_state(Checkpoint& ckpt, const StateDict& source,
                               const std::vector<Selected>& selected);

// Whether build_output_state copies `t`'s storage whole (`users` selected tensors use it;
// a view that is not a plain compact tensor keeps its storage too) rather than compacting
// it to the tensor.
bool writes_whole_storage(const TensorRef& t, int users);

// Gives `r` the input's CRC-32 (PlannedRecord::crc32) when it copies all of `where`
// unchanged and the input states one.
void keep_input_crc(PlannedRecord& r, const StorageLocation& where);

}  // namespace fsdpshard
