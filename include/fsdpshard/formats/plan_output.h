// The one path from an input to a planned output, shared by gather and reshard: open the
// input through the front door (source/open_source.h), take the state dict --from names,
// select from it (--include/--exclude/--rename/--dtype), and let the format plan its files.
#pragma once

#include "fsdpshard/commands/commands.h"
#include "fsdpshard/formats/output_format.h"
#include "fsdpshard/plan/plan.h"

namespace fsdpshard {

// `ranks`: the job's size, over which the format spreads its files' writers. A format that
// re-lays out an input it opens itself (FSDP rank files) is asked without a selection.
PlannedJob plan_output(const TransferOptions& options, const OutputFormat& format, int ranks);

}  // namespace fsdpshard
