// Reassembling a per-rank FSDP state dict (model, best_state.model, ema.state.model) for
// `fsdpshard gather`: every parameter becomes one output record whose segments are its
// pieces in the rank files, in rank order (docs/FORMATS.md §6).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fsdpshard/fsdp_ranks.h"
#include "fsdpshard/output_state.h"
#include "fsdpshard/selection.h"

namespace fsdpshard {

// Whether gather should read `from` out of all rank files of `input`: the input is an
// FSDP rank-0 file (or its folder) and `from` names a per-rank state dict (anything but
// auto and fsdp_best_state, which rank 0 holds whole).
bool wants_fsdp_gather(const std::string& input, const std::string& from);

struct FsdpGathered {
  FsdpRankFiles files;     // the output graph lives in files.ranks[0]'s graph
  ShardedState sharded;
  OutputState state;       // records name inputs by rank (Plan::inputs = files.paths)
};

FsdpGathered gather_fsdp_state(const std::string& input, const std::string& from, const FsdpOptions& fsdp,
                               const SelectionOptions& selection);

}  // namespace fsdpshard
