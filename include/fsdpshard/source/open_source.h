// The front door for every input: opens whatever recognize_input() says a path is, as one
// Checkpoint. With a per-rank `from` (model, best_state.model, ema.state.model) an FSDP
// run's rank files (a folder holding checkpoint.th, or rank 0's file, with checkpoint.th.1
// … beside it) open as one set: its inputs are all rank files and its state dict at
// `from` is the full-shape one, each parameter a storage whose segments are its pieces
// in rank order (docs/FORMATS.md §6). Any other input opens as Checkpoint(path) does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fsdpshard/source/checkpoint.h"

namespace fsdpshard {

struct SourceOptions {
  std::string from = "auto";            // --from: which state dict will be read
  std::string shapes_from;              // --shapes-from REF: full shapes (default: fsdp_best_state.model)
  std::vector<std::string> fsdp_units;  // --fsdp-units REGEX…: wrap policy (default: AudioCraft's)
};

// Whether `from` names a state dict that FSDP keeps sharded per rank (not auto, the whole
// file, nor fsdp_best_state, which rank 0 holds gathered).
bool is_per_rank_state(const std::string& from);

// InputError naming the path and what was expected when it is no input fsdpshard reads.
std::unique_ptr<Checkpoint> open_source(const std::string& path, const SourceOptions& options = {});

}  // namespace fsdpshard
