// `fsdpshard reshard`: one state dict into shard files plus an index, named, grouped and
// indexed as huggingface_hub's save_torch_state_dict does (torch or safetensors), and
// config.yaml, written in parallel by the ranks; with --world M, an FSDP run's rank files for M ranks instead (commands/fsdp_reshard.h).
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "commands/cfg_output.h"
#include "commands/fsdp_reshard.h"
#include "commands/run_plan.h"
#include "commands/safetensors_output.h"
#include "commands/shard_index.h"
#include "fsdpshard/atomic_file.h"
#include "fsdpshard/checkpoint.h"
#include "fsdpshard/commands.h"
#include "fsdpshard/error.h"
#include "fsdpshard/output_guard.h"
#include "fsdpshard/output_state.h"
#include "fsdpshard/sharding.h"
#include "fsdpshard/source.h"
#include "fsdpshard/source/open_source.h"
#include "fsdpshard/tied_names.h"
#include "util/format.h"
#include "util/utf8.h"

namespace fsdpshard {
namespace {

// The bytes of the output storage `t` lands in, as build_output_state lays it out.
uint64_t output_storage_bytes(const TensorRef& t, DType dtype, int users) {
  if (!writes_whole_storage(t, users)) return t.numel() * element_size(dtype);
  return t.storage.untyped ? t.storage.numel : t.storage.numel * element_size(dtype);
}

// What must stay in one file, with huggingface_hub's size for it (its storage, once).
// Torch files keep sharing, so the tensors of one input storage form a unit; safetensors
// files share nothing (tied names are dropped before), so every tensor is one.
std::vector<ShardUnit> units_of(const StateDict& source, const std::vector<Selected>& selected, bool safetensors) {
  std::map<std::string, int> users;
  for (const Selected& s : selected) users[source.tensors[s.index].tensor.storage.key] += 1;
  std::vector<ShardUnit> units;
  std::map<std::string, std::size_t> unit_of_storage;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const TensorRef& t = source.tensors[selected[i].index].tensor;
    if (safetensors) {
      units.push_back({{i}, t.numel() * element_size(selected[i].dtype)});
      continue;
    }
    const auto [it, fresh] = unit_of_storage.emplace(t.storage.key, units.size());
    if (fresh) units.push_back({{}, output_storage_bytes(t, selected[i].dtype, users[t.storage.key])});
    units[it->second].tensors.push_back(i);
  }
  return units;
}

// --metadata entries in order, a repeated key keeping its first place and its last value
// (a Python dict's update).
StringPairs user_metadata(const std::vector<std::pair<std::string, std::string>>& given) {
  StringPairs out;
  for (const auto& [key, value] : given) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; });
    if (it == out.end()) out.emplace_back(key, value);
    else it->second = value;
  }
  return out;
}

PlannedJob plan_reshard(const ReshardOptions& options, int ranks) {
  auto ckpt = open_source(options.input, {options.from, options.shapes_from, options.fsdp_units});
  refuse_irregular_tensors(*ckpt);
  const StateDict source = resolve_source(*ckpt, options.from);
  std::vector<std::string> names;
  std::vector<DType> dtypes;
  for (const auto& t : source.tensors) {
    names.push_back(t.name);
    dtypes.push_back(t.tensor.dtype);
  }
  const bool safetensors = options.format == ShardFormat::Safetensors;
  std::vector<Selected> selected = select_tensors(names, dtypes, options.selection);
  StringPairs metadata = user_metadata(options.metadata);
  TiedNames tied;
  if (safetensors) {
    tied = drop_tied_names(source, selected, options.input);
    selected = tied.kept;
    record_dropped_names(metadata, tied);
  }
  const auto units = units_of(source, selected, safetensors);
  const ShardFiles files =
      options.shards > 0 ? balance_shards(units, options.shards) : hf_shards(units, options.max_shard_size);
  const int count = static_cast<int>(files.size());
  if (count == 1 && !safetensors && !options.metadata.empty()) {
    throw InputError("--metadata goes into the shard index or a single safetensors file's header; a single "
                     "pytorch_model.bin (one shard, so no index) has neither");
  }

  const PreparedCfg cfg = prepare_cfg(*ckpt, options.edits, CfgFormat::Yaml);
  PlannedJob job;
  job.plan.inputs = ckpt->inputs();
  job.plan.output = options.output;
  job.plan.single_file = false;
  StringPairs weight_map;
  uint64_t total_size = 0;
  for (const ShardUnit& u : units) total_size += u.bytes;
  for (int k = 0; k < count; ++k) {
    std::vector<Selected> in_file;
    for (std::size_t i : files[static_cast<std::size_t>(k)]) in_file.push_back(selected[i]);
    OutputState state = build_output_state(*ckpt, source, in_file);
    PlannedFile file;
    file.name = shard_file_name(safetensors, k, count);
    file.writer = options.writers_rank0 ? 0 : k % ranks;
    if (safetensors) {
      // huggingface_hub: the metadata goes into the index, or into the file when alone.
      std::map<std::string, std::string> header_metadata{{"format", "pt"}};
      if (count == 1) header_metadata.insert(metadata.begin(), metadata.end());
      file.format = FileFormat::Safetensors;
      file.header = safetensors_file_plan(state, header_metadata, source.path, file.records);
    } else {
      file.format = FileFormat::TorchSave;
      file.archive_root = std::filesystem::path(file.name).stem().string();
      file.header = pickle_output(ckpt->graph(), state.mapping, ckpt->path(), options.output + "/" + file.name,
                                  options.allowed_globals);
      file.records = state.storages;
    }
    for (const auto& t : state.tensors) {
      utf8::require_for_json(t.name, "tensor name", "shard index");
      weight_map.emplace_back(t.name, file.name);
    }
    job.plan.files.push_back(std::move(file));
  }
  if (count > 1) {
    PlannedFile index;
    index.name = shard_index_name(safetensors);
    index.format = FileFormat::Text;
    index.header = shard_index_json(total_size, metadata, weight_map);
    job.plan.files.push_back(std::move(index));
  }
  if (cfg.node != kNoNode) {
    PlannedFile config;
    config.name = "config.yaml";
    config.format = FileFormat::Text;
    config.header = cfg.yaml_after;
    job.plan.files.push_back(std::move(config));
  }

  job.what = "resharded " + std::to_string(selected.size()) + " tensors (" + human_bytes(total_size) + ") into " +
             std::to_string(count) + " file" + (count == 1 ? "" : "s") + dropped_names_summary(tied);
  std::string text = "source: " + options.input + " [" + (source.path.empty() ? "<whole file>" : source.path) +
                     "], " + std::to_string(source.tensors.size()) + " tensors; selected " +
                     std::to_string(selected.size() + tied.dropped.size()) + "\n";
  for (const auto& [name, kept] : tied.dropped) text += "tied: '" + name + "' dropped, shares '" + kept + "'\n";
  for (int k = 0; k < count; ++k) {
    text += job.plan.files[static_cast<std::size_t>(k)].name + ": " +
            std::to_string(files[static_cast<std::size_t>(k)].size()) + " tensors\n";
  }
  const std::string diff = yaml_diff(cfg.yaml_before, cfg.yaml_after);
  text += diff.empty() ? "config.yaml: xp.cfg unchanged\n" : "config.yaml: xp.cfg changes:\n" + diff;
  job.dry_run_text = text;
  return job;
}

}  // namespace

int run_reshard(const ReshardOptions& options) {
  auto comm = make_communicator(options.backend);
  // After MPI_Init: Open MPI installs its own SIGTERM handler there, which would replace
  // ours; installed last, ours removes the temporary outputs and then chains to it.
  install_cleanup_signal_handlers();
  const int ranks = comm->size();
  if (options.world > 0) return run_planned(*comm, options, OutputKind::Folder, [&] { return plan_fsdp_reshard(options, ranks); });
  return run_planned(*comm, options, OutputKind::Folder, [&] { return plan_reshard(options, ranks); });
}

}  // namespace fsdpshard
