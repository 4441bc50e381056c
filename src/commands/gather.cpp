// `fsdpshard gather`: one state dict of a checkpoint (by default the FSDP best state) into
// one file of the format --to names (src/formats/: a training checkpoint, an AudioCraft
// export, a bare state dict, a .safetensors file), with xp.cfg patched on the way.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "execute/run_plan.h"
#include "fsdpshard/archive/atomic_file.h"
#include "fsdpshard/commands/commands.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/formats/plan_output.h"
#include "fsdpshard/formats/registry.h"

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
  return plan_output(options, format, ranks);
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
