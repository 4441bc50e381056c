// `fsdpshard reshard --world M` on the per-rank files of an AudioCraft FSDP run: M new
// rank files (checkpoint.th, checkpoint.th.1, …) in the flat-parameter layout FSDP uses
// at world size M (docs/FORMATS.md §6), so that M ranks with the same FSDP set-up resume.
// Re-laid out: `model`, `best_state.model`, `ema.state.model` and the optimizer's
// per-element state (Adam's exp_avg, exp_avg_sq); everything else comes from rank 0's file.
#pragma once

#include "commands/run_plan.h"
#include "fsdpshard/commands.h"

namespace fsdpshard {

// The plan every rank derives alike; `ranks` (the job's size) picks the writers.
PlannedJob plan_fsdp_reshard(const ReshardOptions& options, int ranks);

}  // namespace fsdpshard
