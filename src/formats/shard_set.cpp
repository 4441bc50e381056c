// reshard --format torch | safetensors: the selected state dict as huggingface_hub's
// save_torch_state_dict writes it — shard files named, grouped and indexed as it does
// (one file without an index, or k-of-N files plus *.index.json) — and config.yaml,
// written in parallel by the ranks. One unit for both flavours: they differ in file
// names, in what must stay together, and in the shard encoding.
#include <algorithm>
#include <filesystem>
#include <map>

#include "formats/cfg_output.h"
#include "formats/safetensors_output.h"
#include "formats/shard_index.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/formats/file_encoding.h"
#include "fsdpshard/formats/output_format.h"
#include "fsdpshard/torch_pickle/output_guard.h"
#include "fsdpshard/plan/sharding.h"
#include "fsdpshard/plan/tied_names.h"
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
  for (const auto& entry : given) {
    // Not a structured binding: C++17 lambdas cannot capture those (clang refuses).
    const std::string& key = entry.first;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; });
    if (it == out.end()) out.emplace_back(key, entry.second);
    else it->second = entry.second;
  }
  return out;
}

class ShardSetFormat : public OutputFormat {
 public:
  ShardSetFormat(bool safetensors, std::string name, std::string description)
      : OutputFormat(std::move(name), FormatOption::ReshardFormat, OutputKind::Folder, std::move(description)),
        safetensors_(safetensors) {}

  PlannedJob plan(const FormatRequest& request) const override {
    const TransferOptions& options = request.options;
    const SelectedSource& in = *request.source;
    Checkpoint& ckpt = in.checkpoint;
    const StateDict& source = in.source;
    std::vector<Selected> selected = in.selected;
    StringPairs metadata = user_metadata(options.metadata);
    TiedNames tied;
    if (safetensors_) {
      tied = drop_tied_names(source, selected, options.input);
      selected = tied.kept;
      record_dropped_names(metadata, tied);
    }
    const auto units = units_of(source, selected, safetensors_);
    const ShardFiles files =
        options.shards > 0 ? balance_shards(units, options.shards) : hf_shards(units, options.max_shard_size);
    const int count = static_cast<int>(files.size());
    if (count == 1 && !safetensors_ && !options.metadata.empty()) {
      throw InputError("--metadata goes into the shard index or a single safetensors file's header; a single "
                       "pytorch_model.bin (one shard, so no index) has neither");
    }

    const PreparedCfg cfg = prepare_cfg(ckpt, options.edits, CfgFormat::Yaml);
    PlannedJob job;
    job.plan.inputs = in.inputs;
    job.plan.output = options.output;
    job.plan.single_file = false;
    StringPairs weight_map;
    uint64_t total_size = 0;
    for (const ShardUnit& u : units) total_size += u.bytes;
    for (int k = 0; k < count; ++k) {
      std::vector<Selected> in_file;
      for (std::size_t i : files[static_cast<std::size_t>(k)]) in_file.push_back(selected[i]);
      const OutputState state = build_output_state(in.checkpoint, in.source, in_file);
      PlannedFile file;
      file.name = shard_file_name(safetensors_, k, count);
      file.writer = options.writers_rank0 ? 0 : k % request.ranks;
      if (safetensors_) {
        // huggingface_hub: the metadata goes into the index, or into the file when alone.
        std::map<std::string, std::string> header_metadata{{"format", "pt"}};
        if (count == 1) header_metadata.insert(metadata.begin(), metadata.end());
        file.encoding = raw_bytes_encoding();
        file.header = safetensors_file_plan(state, header_metadata, source.path, file.records);
      } else {
        file.encoding = torch_zip_encoding();
        file.archive_root = torch_archive_root(file.name);
        file.header = pickle_output(ckpt.graph(), state.mapping, ckpt.path(), options.output + "/" + file.name,
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
      index.name = shard_index_name(safetensors_);
      index.encoding = raw_bytes_encoding();
      index.header = shard_index_json(total_size, metadata, weight_map);
      job.plan.files.push_back(std::move(index));
    }
    if (cfg.node != kNoNode) {
      PlannedFile config;
      config.name = "config.yaml";
      config.encoding = raw_bytes_encoding();
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

 private:
  bool safetensors_;
};

}  // namespace

const OutputFormat& torch_shard_set_format() {
  static const ShardSetFormat format(false, "torch", "pytorch_model.bin, or pytorch_model-0000k-of-0000N.bin + index");
  return format;
}

const OutputFormat& safetensors_shard_set_format() {
  static const ShardSetFormat format(true, "safetensors",
                                     "model.safetensors, or model-0000k-of-0000N.safetensors + index; tied names "
                                     "dropped and recorded in the metadata, as huggingface_hub does");
  return format;
}

}  // namespace fsdpshard
