#include "fsdpshard/plan/fsdp_relayout.h"

#include <algorithm>

#include "fsdpshard/util/error.h"

namespace fsdpshard {

std::vector<OldRun> old_runs(const FlatUnit& old_unit, std::size_t k, uint64_t param_offset, uint64_t count) {
  std::vector<OldRun> runs;
  const uint64_t end = param_offset + count;
  uint64_t covered = param_offset;
  for (int r = 0; r < old_unit.world && count > 0; ++r) {
    const FlatPiece p = old_unit.piece(k, r);
    const uint64_t lo = std::max(param_offset, p.param_offset);
    const uint64_t hi = std::min(end, p.param_offset + p.count);
    if (hi <= lo) continue;
    runs.push_back({r, lo - p.param_offset, hi - lo});
    covered += hi - lo;
  }
  // The old pieces tile the parameter, so this only fails on a caller's wrong range.
  if (covered != end) throw RuntimeFailure("FSDP relayout: old pieces do not cover the wanted elements");
  return runs;
}

std::vector<ShardRun> shard_runs(const FlatUnit& unit, int rank) {
  std::vector<ShardRun> runs;
  uint64_t pos = 0;  // elements into the shard covered so far
  auto pad_to = [&](uint64_t target) {
    if (target > pos) runs.push_back({true, 0, 0, target - pos});
    pos = std::max(pos, target);
  };
  for (std::size_t k = 0; k < unit.params.size(); ++k) {
    const FlatPiece p = unit.piece(k, rank);
    if (p.count == 0) continue;
    pad_to(p.shard_offset);
    runs.push_back({false, k, p.param_offset, p.count});
    pos += p.count;
  }
  pad_to(unit.shard_numel);
  return runs;
}

}  // namespace fsdpshard
