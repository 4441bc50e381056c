// `fsdpshard reshard`: one state dict into N shard files plus an index (Hugging Face
// conventions, torch or safetensors) and config.yaml, written in parallel by the ranks;
// with --world M, an FSDP run's rank files for M ranks instead (commands/fsdp_reshard.h).
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands/cfg_output.h"
#include "commands/fsdp_reshard.h"
#include "commands/run_plan.h"
#include "commands/safetensors_output.h"
#include "fsdpshard/atomic_file.h"
#include "fsdpshard/checkpoint.h"
#include "fsdpshard/commands.h"
#include "fsdpshard/error.h"
#include "fsdpshard/output_guard.h"
#include "fsdpshard/output_state.h"
#include "fsdpshard/sharding.h"
#include "fsdpshard/source.h"
#include "util/format.h"
#include "util/utf8.h"

namespace fsdpshard {
namespace {

// Tensors that share an input storage form one unit: they must land in one file.
std::vector<ShardUnit> units_of(const StateDict& source, const std::vector<Selected>& selected) {
  std::vector<ShardUnit> units;
  std::map<std::string, std::size_t> unit_of_storage;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const TensorRef& t = source.tensors[selected[i].index].tensor;
    const auto [it, fresh] = unit_of_storage.emplace(t.storage.key, units.size());
    if (fresh) units.emplace_back();
    units[it->second].tensors.push_back(i);
    units[it->second].bytes += t.numel() * element_size(selected[i].dtype);
  }
  return units;
}

std::string index_json(uint64_t total_size, const std::map<std::string, std::string>& weight_map) {
  nlohmann::json index;
  index["metadata"] = {{"total_size", total_size}};
  for (const auto& entry : weight_map) utf8::require_for_json(entry.first, "tensor name", "shard index");
  index["weight_map"] = weight_map;  // std::map: sorted by name, as transformers writes it
  return index.dump(2) + "\n";
}

PlannedJob plan_reshard(const ReshardOptions& options, int ranks) {
  auto ckpt = std::make_unique<Checkpoint>(options.input);
  refuse_irregular_tensors(*ckpt);
  const StateDict source = resolve_source(*ckpt, options.from);
  std::vector<std::string> names;
  std::vector<DType> dtypes;
  for (const auto& t : source.tensors) {
    names.push_back(t.name);
    dtypes.push_back(t.tensor.dtype);
  }
  const auto selected = select_tensors(names, dtypes, options.selection);
  const auto units = units_of(source, selected);
  int count = options.shards;
  const std::vector<int> unit_file =
      options.shards > 0 ? balance_shards(units, options.shards) : greedy_shards(units, options.max_shard_size, &count);

  // Each file's tensors, in key order.
  std::vector<std::vector<Selected>> per_file(static_cast<std::size_t>(count));
  std::vector<int> file_of_selected(selected.size());
  for (std::size_t u = 0; u < units.size(); ++u) {
    for (std::size_t i : units[u].tensors) file_of_selected[i] = unit_file[u];
  }
  for (std::size_t i = 0; i < selected.size(); ++i) {
    per_file[static_cast<std::size_t>(file_of_selected[i])].push_back(selected[i]);
  }

  const bool safetensors = options.format == ShardFormat::Safetensors;
  const PreparedCfg cfg = prepare_cfg(*ckpt, options.edits, CfgFormat::Yaml);
  PlannedJob job;
  job.plan.inputs = ckpt->inputs();
  job.plan.output = options.output;
  job.plan.single_file = false;
  std::map<std::string, std::string> weight_map;
  uint64_t total_size = 0;
  for (int k = 0; k < count; ++k) {
    OutputState state = build_output_state(*ckpt, source, per_file[static_cast<std::size_t>(k)]);
    PlannedFile file;
    file.name = shard_file_name(safetensors, k, count);
    file.writer = options.writers_rank0 ? 0 : k % ranks;
    if (safetensors) {
      file.format = FileFormat::Safetensors;
      file.header = safetensors_file_plan(state, {{"format", "pt"}}, source.path, file.records);
    } else {
      file.format = FileFormat::TorchSave;
      file.archive_root = std::filesystem::path(file.name).stem().string();
      file.header = pickle_output(ckpt->graph(), state.mapping, ckpt->path(), options.output + "/" + file.name,
                                  options.allowed_globals);
      file.records = state.storages;
    }
    for (const auto& t : state.tensors) {
      weight_map[t.name] = file.name;
      total_size += t.nbytes;
    }
    job.plan.files.push_back(std::move(file));
  }
  PlannedFile index;
  index.name = shard_index_name(safetensors);
  index.format = FileFormat::Text;
  index.header = index_json(total_size, weight_map);
  job.plan.files.push_back(std::move(index));
  if (cfg.node != kNoNode) {
    PlannedFile config;
    config.name = "config.yaml";
    config.format = FileFormat::Text;
    config.header = cfg.yaml_after;
    job.plan.files.push_back(std::move(config));
  }

  job.what = "resharded " + std::to_string(selected.size()) + " tensors (" + human_bytes(total_size) + ") into " +
             std::to_string(count) + " file" + (count == 1 ? "" : "s");
  std::string text = "source: " + options.input + " [" + (source.path.empty() ? "<whole file>" : source.path) +
                     "], " + std::to_string(source.tensors.size()) + " tensors; selected " +
                     std::to_string(selected.size()) + "\n";
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
