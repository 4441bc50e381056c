#include "fsdpshard/formats/plan_output.h"

#include <memory>

#include "fsdpshard/torch_pickle/output_guard.h"
#include "fsdpshard/source/resolve_source.h"
#include "fsdpshard/source/open_source.h"

namespace fsdpshard {

PlannedJob plan_output(const TransferOptions& options, const OutputFormat& format, int ranks) {
  if (!format.plans_from_selection()) return format.plan({options, ranks, nullptr});
  // Any input, an FSDP run's rank files included (a per-rank --from reads every rank's
  // pieces): one Checkpoint whose inputs the plan reads.
  const std::unique_ptr<Checkpoint> opened =
      open_source(options.input, {options.from, options.shapes_from, options.fsdp_units});
  Checkpoint& ckpt = *opened;
  refuse_irregular_tensors(ckpt);
  StateDict source = resolve_source(ckpt, options.from);
  std::vector<Selected> selected = select_state_dict(source, options.selection);
  SelectedSource input{ckpt, std::move(source), std::move(selected), ckpt.inputs()};
  return format.plan({options, ranks, &input});
}

}  // namespace fsdpshard
