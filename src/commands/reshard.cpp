// `fsdpshard reshard`: one state dict into a folder of the format --format names
// (src/formats/shard_set.cpp: shard files plus an index as huggingface_hub writes them,
// torch or safetensors, and config.yaml), or with --world M an FSDP run's rank files for
// M ranks (src/formats/fsdp_rank_files.cpp), written in parallel by the ranks.
#include <memory>

#include "execute/run_plan.h"
#include "fsdpshard/archive/atomic_file.h"
#include "fsdpshard/commands/commands.h"
#include "fsdpshard/formats/plan_output.h"
#include "fsdpshard/formats/registry.h"

namespace fsdpshard {

int run_reshard(const TransferOptions& options) {
  const OutputFormat& format = options.world > 0 ? default_output_format(FormatOption::ReshardWorld)
                                                 : find_output_format(FormatOption::ReshardFormat, options.format);
  auto comm = make_communicator(options.backend);
  // After MPI_Init: Open MPI installs its own SIGTERM handler there, which would replace
  // ours; installed last, ours removes the temporary outputs and then chains to it.
  install_cleanup_signal_handlers();
  const int ranks = comm->size();
  return run_planned(*comm, options, format.output_kind(), [&] { return plan_output(options, format, ranks); });
}

}  // namespace fsdpshard
