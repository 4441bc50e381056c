// The per-rank files of one AudioCraft FSDP run (checkpoint.th, checkpoint.th.1, …) and
// the sharded state dicts in them: each parameter as 1-D pieces, one per rank, laid out
// as FSDP's flat parameters (docs/FORMATS.md §6). Opening one checks the pieces against the
// layout predicted for the files' world size, so a wrong world size, a missing or extra
// rank file, or a wrong wrap policy is a clear InputError instead of scrambled weights.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/plan/fsdp_layout.h"

namespace fsdpshard {

struct FsdpRankFiles {
  std::vector<std::string> paths;                   // rank order
  std::vector<std::unique_ptr<Checkpoint>> ranks;   // metadata only
  int world() const { return static_cast<int>(paths.size()); }
};

// Whether `input` is a folder holding checkpoint.th or a file named like a rank file
// (checkpoint.th, checkpoint_12.th, checkpoint.th.3): what open_rank_files() looks at.
bool looks_like_rank0(const std::string& input);
// Rank 0's file for `input` (the folder's checkpoint.th, or `input` itself).
std::string fsdp_rank0_path(const std::string& input);

// `input`: a folder holding checkpoint.th, or rank 0's file. Finds `<rank0>.<r>` beside it
// for r = 1, 2, … A gap in the numbers (a missing file) is an InputError; so is a rank-N
// file given as `input`.
FsdpRankFiles open_rank_files(const std::string& input);

struct FsdpOptions {
  std::string shapes_from;          // --shapes-from REF ("" = rank 0's fsdp_best_state.model)
  std::vector<std::string> units;   // --fsdp-units REGEX… (empty = AudioCraft's wrap policy)
};

// One per-rank state dict ("model", "best_state.model", "ema.state.model") across the ranks.
struct ShardedState {
  std::string path;
  std::vector<StateDict> per_rank;           // the state dict at `path` in each rank file
  std::vector<std::string> names;            // parameter names, registration order
  std::vector<std::vector<int64_t>> shapes;  // full shapes
  std::vector<uint64_t> numels;
  std::vector<DType> dtypes;                 // dtype of the pieces
  std::vector<FlatUnit> units;               // the layout at the files' world size
  std::vector<std::size_t> unit_of;          // per parameter: index into units
  std::vector<std::size_t> position;         // per parameter: index within its unit
  uint64_t alignment = 1;                    // elements
  FsdpUnitRules rules = FsdpUnitRules::audiocraft();
  const NamedTensor& piece(std::size_t param, int rank) const { return per_rank[rank].tensors[param]; }
};

// Reads the state dict at `path` from every rank file and checks every piece (its size,
// and its offset when it is a view of the unit's shard) against the layout. The
// alignment comes from xp.cfg's fsdp.param_dtype when there, else the one (16 bytes of
// float16, then float32) that the pieces fit.
ShardedState open_sharded_state(const FsdpRankFiles& files, const std::string& path, const FsdpOptions& options);

}  // namespace fsdpshard
