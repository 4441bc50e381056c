// FSDP per-rank state dicts ("model", "best_state.model", "ema.state.model" of an FSDP
// run): each parameter lies in pieces, one per rank file. The CLI's gather reassembles
// them (src/commands/fsdp_gather.h); this takes its plan and describes each selected
// tensor as byte segments of the rank files, for load() to assemble. When the checkpoint
// model describes every storage as segments, this file goes: load()'s ordinary path then
// opens these sets too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fsdpshard/selection.h"
#include "libtorch/storage_segments.h"

namespace fsdpshard::libtorch {

struct PieceTensor {
  std::string name;                   // after --rename
  DType source_dtype = DType::UInt8;  // in the rank files
  DType dtype = DType::UInt8;         // after --dtype
  std::vector<int64_t> sizes;         // contiguous
  uint64_t source_bytes = 0;
  std::vector<ByteSegment> segments;  // of PerRankState::files, covering source_bytes
};

struct PerRankState {
  std::vector<std::string> files;  // rank order
  std::string source;              // the state dict's dotted path
  std::vector<PieceTensor> tensors;
  std::optional<std::string> cfg_yaml;  // rank 0's xp.cfg
};

// The per-rank state `from` of the FSDP run at `path` (rank 0's file or its folder), as
// `fsdpshard gather path --from from` reads it; nullopt when that gather would not read
// the rank files (`from` is auto or fsdp_best_state…, or `path` is no FSDP rank file).
std::optional<PerRankState> open_per_rank_state(const std::string& path, const std::string& from,
                                                const SelectionOptions& selection);

}  // namespace fsdpshard::libtorch
