// The distributed skeleton every transferring command shares: plan on every rank from
// metadata, agree that planning worked everywhere, move bytes, report once.
#pragma once

#include <functional>
#include <string>

#include "fsdpshard/commands/commands.h"
#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/execute/executor.h"
#include "fsdpshard/archive/output_paths.h"
#include "fsdpshard/plan/plan.h"

namespace fsdpshard {

// Runs `make_plan` on every rank of `comm`, then executes the plan (or prints it with
// --dry-run). Before planning, -o is checked as an output of `output_kind`; after it,
// against every input (fsdpshard/archive/output_paths.h). Errors: a planning error is printed by
// rank 0 (or by the ranks that had it, when rank 0 had none) and every rank returns its
// exit code; an error while moving bytes is printed by the rank that had it, which then
// ends every rank (abort).
int run_planned(Communicator& comm, const TransferOptions& options, OutputKind output_kind,
                const std::function<PlannedJob()>& make_plan);

// Runs `step` (metadata work: opening inputs, planning) on every rank and agrees on the
// outcome: 0 when it worked everywhere, else the exit code of the lowest failing rank,
// on every rank. Rank 0 prints that rank's error, once ("(on rank N)" when N is not 0).
int run_on_every_rank(Communicator& comm, const std::function<void()>& step);

// Prints "fsdpshard: error: <message>" to stderr and returns the exit code of the
// exception in flight (2 input, 1 runtime). Call from a catch block.
int report_current_exception();

}  // namespace fsdpshard
