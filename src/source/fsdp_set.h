// An FSDP run's per-rank files opened as one Checkpoint (open_source.h): rank 0's graph,
// with the per-rank state dict at `from` reassembled into full-shape tensors whose
// storages are the pieces of every rank file, in rank order.
#pragma once

#include <memory>
#include <string>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/source/fsdp_ranks.h"

namespace fsdpshard {

class FsdpSetAssembly {
 public:
  // `input`: the folder or rank 0's file. InputError for missing or extra rank files, or
  // pieces that do not fit the layout (open_sharded_state).
  static std::unique_ptr<Checkpoint> open(const std::string& input, const std::string& from,
                                          const FsdpOptions& options);
};

}  // namespace fsdpshard
