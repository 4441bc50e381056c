// `fsdpshard reshard`: one state dict into a folder of the format --format names
// (src/formats/shard_set.cpp: shard files plus an index as huggingface_hub writes them,
// torch or safetensors, and config.yaml), or with --world M an FSDP run's rank files for
// M ranks (src/formats/fsdp_rank_files.cpp), written in parallel by the ranks.
#include <memory>

#include "commands/run_plan.h"
#include "fsdpshard/atomic_file.h"
#include "fsdpshard/checkpoint.h"
#include "fsdpshard/commands.h"
#include "fsdpshard/formats/registry.h"
#include "fsdpshard/output_guard.h"
#include "fsdpshard/source.h"

namespace fsdpshard {
namespace {

PlannedJob plan_reshard(const TransferOptions& options, const OutputFormat& format, int ranks) {
  if (!format.plans_from_selection()) return format.plan({options, ranks, nullptr});
  auto ckpt = std::make_unique<Checkpoint>(options.input);
  refuse_irregular_tensors(*ckpt);
  const StateDict source = resolve_source(*ckpt, options.from);
  std::vector<std::string> names;
  std::vector<DType> dtypes;
  for (const auto& t : source.tensors) {
    names.push_back(t.name);
    dtypes.push_back(t.tensor.dtype);
  }
  std::vector<Selected> selected = select_tensors(names, dtypes, options.selection);

  SelectedSource input{*ckpt, source, std::move(selected), ckpt->inputs(), std::nullopt};
  return format.plan({options, ranks, &input});
}

}  // namespace

int run_reshard(const TransferOptions& options) {
  const OutputFormat& format = options.world > 0 ? default_output_format(FormatOption::ReshardWorld)
                                                 : find_output_format(FormatOption::ReshardFormat, options.format);
  auto comm = make_communicator(options.backend);
  // After MPI_Init: Open MPI installs its own SIGTERM handler there, which would replace
  // ours; installed last, ours removes the temporary outputs and then chains to it.
  install_cleanup_signal_handlers();
  const int ranks = comm->size();
  return run_planned(*comm, options, format.output_kind(), [&] { return plan_reshard(options, format, ranks); });
}

}  // namespace fsdpshard
