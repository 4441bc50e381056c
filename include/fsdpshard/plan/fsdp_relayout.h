// Moving FSDP flat parameters from one world size to another (docs/FORMATS.md §6): which runs
// of the old ranks' pieces make up a piece of the new layout, and what a new rank's shard
// of a unit holds, parameter runs and padding in flat order. Pure arithmetic, like
// fsdp_layout.h, so that `reshard --world M` is a plan over byte ranges and nothing more.
#pragma once

#include <cstdint>
#include <vector>

#include "fsdpshard/plan/fsdp_layout.h"

namespace fsdpshard {

// Elements [offset, offset + count) of the piece that old rank `rank` holds.
struct OldRun {
  int rank = 0;
  uint64_t offset = 0;  // elements into that rank's piece of the parameter
  uint64_t count = 0;
};

// Elements [param_offset, param_offset + count) of parameter `k` of `old_unit` (laid out
// for the old world size), as runs of the old ranks' pieces, in parameter order. Pieces
// of consecutive ranks are consecutive runs of the parameter, so the runs tile the range.
std::vector<OldRun> old_runs(const FlatUnit& old_unit, std::size_t k, uint64_t param_offset, uint64_t count);

// One run of a rank's shard of a unit: `count` elements of parameter `k` from
// `param_offset`, or `count` elements of padding (alignment before a parameter, or the
// end padding to a multiple of the world size).
struct ShardRun {
  bool padding = false;
  std::size_t k = 0;
  uint64_t param_offset = 0;
  uint64_t count = 0;
};

// What `rank`'s shard of `unit` holds, in order; the counts add up to unit.shard_numel.
std::vector<ShardRun> shard_runs(const FlatUnit& unit, int rank);

}  // namespace fsdpshard
