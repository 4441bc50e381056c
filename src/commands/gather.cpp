// `fsdpshard gather`: one state dict of a checkpoint (by default the FSDP best state) into
// a fine-tune-ready training checkpoint, an AudioCraft export, a bare state dict or a
// .safetensors file, with xp.cfg patched on the way.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands/cfg_output.h"
#include "commands/run_plan.h"
#include "commands/safetensors_output.h"
#include "fsdpshard/atomic_file.h"
#include "fsdpshard/checkpoint.h"
#include "fsdpshard/commands.h"
#include "fsdpshard/error.h"
#include "fsdpshard/output_guard.h"
#include "fsdpshard/output_state.h"
#include "fsdpshard/source.h"
#include "fsdpshard/source/open_source.h"
#include "fsdpshard/tied_names.h"
#include "util/format.h"

namespace fsdpshard {
namespace {

// torch.save names the zip's root folder after the file, without its extension.
std::string archive_root_for(const std::string& output) {
  std::string stem = std::filesystem::path(output).stem().string();
  return stem.empty() ? "archive" : stem;
}

void check_output_path(const GatherOptions& options) {
  std::error_code ec;
  if (std::filesystem::equivalent(options.input, options.output, ec)) {
    throw InputError("the output " + options.output + " is the input; write elsewhere");
  }
}

// Top-level object of the output, per --to.
NodeId output_root(Checkpoint& ckpt, const GatherOptions& options, NodeId state, const PreparedCfg& cfg) {
  Graph& g = ckpt.graph();
  switch (options.target) {
    case GatherTarget::StateDictOnly:
    case GatherTarget::Safetensors:
      return state;
    case GatherTarget::Export: {
      if (cfg.node == kNoNode) {
        throw InputError(ckpt.path() + ": no xp.cfg; an AudioCraft export needs one (use --to state-dict)");
      }
      NodeId version = g.get(ckpt.root(), "version");
      if (version == kNoNode || g.at(version).kind != NodeKind::Str) version = g.str(options.version_string);
      return g.dict({{g.str("best_state"), state},
                     {g.str("xp.cfg"), cfg.node},
                     {g.str("version"), version},
                     {g.str("exported"), g.boolean(true)}});
    }
    case GatherTarget::Training:
      break;
  }
  std::vector<std::pair<NodeId, NodeId>> entries;
  entries.emplace_back(g.str("best_state"), g.dict({{g.str("model"), state}}));
  entries.emplace_back(g.str("fsdp_best_state"), g.dict());
  if (cfg.node != kNoNode) entries.emplace_back(g.str("xp.cfg"), cfg.node);
  for (const std::string& key : options.keep) {
    if (key == "best_state" || key == "fsdp_best_state" || key == "xp.cfg") {
      throw InputError("--keep " + key + ": that entry is written by gather itself");
    }
    const NodeId value = g.get(ckpt.root(), key);
    if (value == kNoNode) throw InputError(ckpt.path() + ": --keep " + key + ": no such top-level entry");
    entries.emplace_back(g.str(key), value);
  }
  return g.dict(std::move(entries));
}

const char* target_name(GatherTarget target) {
  switch (target) {
    case GatherTarget::Training: return "training";
    case GatherTarget::Export: return "export";
    case GatherTarget::StateDictOnly: return "state-dict";
    case GatherTarget::Safetensors: return "safetensors";
  }
  return "?";
}

PlannedJob plan_gather(const GatherOptions& options) {
  check_output_path(options);
  // Any input, an FSDP run's rank files included (a per-rank --from reads every rank's
  // pieces): one Checkpoint whose inputs the plan reads.
  const std::unique_ptr<Checkpoint> opened =
      open_source(options.input, {options.from, options.shapes_from, options.fsdp_units});
  Checkpoint* ckpt = opened.get();
  refuse_irregular_tensors(*ckpt);
  const StateDict source = resolve_source(*ckpt, options.from);
  std::vector<std::string> names;
  std::vector<DType> dtypes;
  for (const auto& t : source.tensors) {
    names.push_back(t.name);
    dtypes.push_back(t.tensor.dtype);
  }
  std::vector<Selected> selected = select_tensors(names, dtypes, options.selection);
  TiedNames tied;
  if (options.target == GatherTarget::Safetensors) {
    // safetensors cannot share storages: one name per tied storage, the rest recorded.
    tied = drop_tied_names(source, selected, options.input);
    selected = tied.kept;
  }
  const OutputState state = build_output_state(*ckpt, source, selected);
  const std::vector<std::string> inputs = ckpt->inputs();

  CfgFormat cfg_format = options.cfg_format;
  if (options.target == GatherTarget::Training && cfg_format == CfgFormat::Keep) cfg_format = CfgFormat::DictConfig;
  if (options.target == GatherTarget::Export || options.target == GatherTarget::Safetensors) {
    cfg_format = CfgFormat::Yaml;
  }
  const bool wants_cfg = options.target != GatherTarget::StateDictOnly;
  PreparedCfg cfg;
  if (wants_cfg || !options.edits.empty()) cfg = prepare_cfg(*ckpt, options.edits, cfg_format);

  PlannedJob job;
  job.plan.inputs = inputs;
  job.plan.output = options.output;
  job.plan.single_file = true;
  PlannedFile file;
  file.name = std::filesystem::path(options.output).filename().string();
  file.writer = 0;
  if (options.target == GatherTarget::Safetensors) {
    file.format = FileFormat::Safetensors;
    std::vector<std::pair<std::string, std::string>> entries{{"format", "pt"}};
    if (cfg.node != kNoNode) entries.emplace_back("xp.cfg", cfg.yaml_after);
    record_dropped_names(entries, tied);
    const std::map<std::string, std::string> metadata(entries.begin(), entries.end());
    file.header = safetensors_file_plan(state, metadata, source.path, file.records);
  } else {
    file.format = FileFormat::TorchSave;
    file.archive_root = archive_root_for(options.output);
    file.header = pickle_output(ckpt->graph(), output_root(*ckpt, options, state.mapping, cfg), ckpt->path(),
                                options.output,
                                options.allowed_globals);
    file.records = state.storages;
  }
  job.plan.files.push_back(std::move(file));

  uint64_t bytes = 0;
  for (const auto& t : state.tensors) bytes += t.nbytes;
  job.what = "gathered " + std::to_string(state.tensors.size()) + " tensors (" + human_bytes(bytes) + ") from " +
             (source.path.empty() ? std::string("the whole file") : source.path) + dropped_names_summary(tied);
  std::string text = "source: " + options.input + " [" + (source.path.empty() ? "<whole file>" : source.path) +
                     "], " + std::to_string(source.tensors.size()) + " tensors\n";
  text += "selected: " + std::to_string(state.tensors.size()) + " tensors, " + human_bytes(bytes) +
          ", output --to " + target_name(options.target) + "\n";
  for (const auto& t : state.tensors) {
    text += "  " + t.name + "  " + std::string(torch_name(t.dtype)) + "  " + human_bytes(t.nbytes) + "\n";
  }
  for (const auto& [name, kept] : tied.dropped) text += "tied: '" + name + "' dropped, shares '" + kept + "'\n";
  const std::string diff = yaml_diff(cfg.yaml_before, cfg.yaml_after);
  text += diff.empty() ? "xp.cfg: unchanged\n" : "xp.cfg changes:\n" + diff;
  job.dry_run_text = text;
  return job;
}

}  // namespace

int run_gather(const GatherOptions& options) {
  auto comm = make_communicator(options.backend);
  // After MPI_Init: Open MPI installs its own SIGTERM handler there, which would replace
  // ours; installed last, ours removes the temporary outputs and then chains to it.
  install_cleanup_signal_handlers();
  return run_planned(*comm, options, OutputKind::File, [&] { return plan_gather(options); });
}

}  // namespace fsdpshard
