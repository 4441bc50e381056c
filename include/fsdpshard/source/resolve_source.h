// Which state dict of a checkpoint a gather or reshard reads (--from).
#pragma once

#include <string>

#include "fsdpshard/source/checkpoint.h"

namespace fsdpshard {

// `from` is "auto" or a dotted path ("model", "ema.state.model", "" for the whole file).
// auto: fsdp_best_state.model when non-empty, else best_state.model, else an exported
// file's flat best_state, else the file itself when it is a plain state dict. A rank-N
// FSDP file is refused with a pointer to rank 0's checkpoint.th.
StateDict resolve_source(const Checkpoint& ckpt, const std::string& from);

}  // namespace fsdpshard
