// Which state dict of a checkpoint a gather or reshard reads (--from).
#pragma once

#include <string>
#include <vector>

#include "fsdpshard/plan/selection.h"
#include "fsdpshard/source/checkpoint.h"

namespace fsdpshard {

// `from` is "auto" or a dotted path ("model", "ema.state.model", "" for the whole file).
// auto: fsdp_best_state.model when non-empty, else best_state.model, else an exported
// file's flat best_state, else the file itself when it is a plain state dict. A rank-N
// FSDP file is refused with a pointer to rank 0's checkpoint.th.
StateDict resolve_source(const Checkpoint& ckpt, const std::string& from);

// The tensors of `source` that --include/--exclude/--rename/--dtype select, with their
// output names and dtypes, in output order (select_tensors over the state dict's entries).
std::vector<Selected> select_state_dict(const StateDict& source, const SelectionOptions& selection);

}  // namespace fsdpshard
