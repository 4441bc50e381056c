#include "formats/single_file_output.h"

#include <filesystem>

#include "util/format.h"

namespace fsdpshard {

PlannedJob single_file_job(const SelectedSource& source, const TransferOptions& options) {
  PlannedJob job;
  job.plan.inputs = source.inputs;
  job.plan.output = options.output;
  job.plan.single_file = true;
  PlannedFile file;
  file.name = std::filesystem::path(options.output).filename().string();
  file.writer = 0;
  job.plan.files.push_back(std::move(file));
  return job;
}

void describe_gather(PlannedJob& job, const SelectedSource& source, const TransferOptions& options,
                     const std::string& format_name, const OutputState& state, const TiedNames& tied,
                     const PreparedCfg& cfg) {
  const StateDict& from = source.source;
  uint64_t bytes = 0;
  for (const auto& t : state.tensors) bytes += t.nbytes;
  job.what = "gathered " + std::to_string(state.tensors.size()) + " tensors (" + human_bytes(bytes) + ") from " +
             (from.path.empty() ? std::string("the whole file") : from.path) + dropped_names_summary(tied);
  std::string text = "source: " + options.input + " [" + (from.path.empty() ? "<whole file>" : from.path) + "], " +
                     std::to_string(from.tensors.size()) + " tensors\n";
  text += "selected: " + std::to_string(state.tensors.size()) + " tensors, " + human_bytes(bytes) + ", output --to " +
          format_name + "\n";
  for (const auto& t : state.tensors) {
    text += "  " + t.name + "  " + std::string(torch_name(t.dtype)) + "  " + human_bytes(t.nbytes) + "\n";
  }
  for (const auto& [name, kept] : tied.dropped) text += "tied: '" + name + "' dropped, shares '" + kept + "'\n";
  const std::string diff = yaml_diff(cfg.yaml_before, cfg.yaml_after);
  text += diff.empty() ? "xp.cfg: unchanged\n" : "xp.cfg changes:\n" + diff;
  job.dry_run_text = text;
}

}  // namespace fsdpshard
