// `fsdpshard gather`: one state dict of a checkpoint (by default the FSDP best state) into
// one file of the format --to names (src/formats/: a training checkpoint, an AudioCraft
// export, a bare state dict, a .safetensors file), with xp.cfg patched on the way.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands/fsdp_gather.h"
#include "commands/run_plan.h"
#include "fsdpshard/atomic_file.h"
#include "fsdpshard/checkpoint.h"
#include "fsdpshard/commands.h"
#include "fsdpshard/error.h"
#include "fsdpshard/formats/registry.h"
#include "fsdpshard/output_guard.h"
#include "fsdpshard/output_state.h"
#include "fsdpshard/source.h"

namespace fsdpshard {
namespace {

void check_output_path(const TransferOptions& options) {
  std::error_code ec;
  if (std::filesystem::equivalent(options.input, options.output, ec)) {
    throw InputError("the output " + options.output + " is the input; write elsewhere");
  }
}

PlannedJob plan_gather(const TransferOptions& options, const OutputFormat& format, int ranks) {
  check_output_path(options);
  std::unique_ptr<Checkpoint> single;
  std::optional<FsdpGathered> fsdp;
  Checkpoint* ckpt = nullptr;
  StateDict source;
  std::optional<OutputState> built;
  std::vector<Selected> selected;
  std::vector<std::string> inputs;
  if (wants_fsdp_gather(options.input, options.from)) {
    // A per-rank FSDP state dict: every parameter from the pieces of all rank files.
    fsdp.emplace(gather_fsdp_state(options.input, options.from, {options.shapes_from, options.fsdp_units},
                                   options.selection));
    for (const auto& rank : fsdp->files.ranks) refuse_irregular_tensors(*rank);
    ckpt = fsdp->files.ranks[0].get();
    source = fsdp->sharded.per_rank[0];
    built = fsdp->state;
    inputs = fsdp->files.paths;
  } else {
    single = std::make_unique<Checkpoint>(options.input);
    refuse_irregular_tensors(*single);
    ckpt = single.get();
    source = resolve_source(*ckpt, options.from);
    std::vector<std::string> names;
    std::vector<DType> dtypes;
    for (const auto& t : source.tensors) {
      names.push_back(t.name);
      dtypes.push_back(t.tensor.dtype);
    }
    selected = select_tensors(names, dtypes, options.selection);
    inputs = ckpt->inputs();
  }

  SelectedSource input{*ckpt, std::move(source), std::move(selected), std::move(inputs), std::move(built)};
  return format.plan({options, ranks, &input});
}

}  // namespace

int run_gather(const TransferOptions& options) {
  const OutputFormat& format = find_output_format(FormatOption::GatherTo, options.format);
  auto comm = make_communicator(options.backend);
  // After MPI_Init: Open MPI installs its own SIGTERM handler there, which would replace
  // ours; installed last, ours removes the temporary outputs and then chains to it.
  install_cleanup_signal_handlers();
  const int ranks = comm->size();
  return run_planned(*comm, options, format.output_kind(), [&] { return plan_gather(options, format, ranks); });
}

}  // namespace fsdpshard
