// Inputs without a pickle — a .safetensors file, a sharded checkpoint — opened as a
// Checkpoint whose graph is synthesised: one state dict of plain tensors, plus xp.cfg as
// YAML text when the input carries one, so gather/reshard/inspect treat every input alike.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "torch_pickle/tensor_nodes.h"
#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/read_only_file.h"
#include "fsdpshard/archive/safetensors.h"
#include "fsdpshard/source/recognize_input.h"
#include "fsdpshard/source/storage_segments.h"
#include "fsdpshard/plan/tied_names.h"

namespace fsdpshard {
namespace {

namespace fs = std::filesystem;

// One tensor of a flat input, over a storage named `key` of `storage_numel` elements.
struct FlatTensor {
  std::string name;
  DType dtype = DType::UInt8;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  uint64_t storage_offset = 0;
  std::string key;
  uint64_t storage_numel = 0;
};

// {'best_state': OrderedDict(tensors), 'xp.cfg': yaml} — or the bare state dict without a cfg.
NodeId build_root(Graph& g, const std::vector<FlatTensor>& tensors, const std::string* cfg_yaml) {
  std::map<std::string, NodeId> storages;
  std::vector<std::pair<NodeId, NodeId>> entries;
  for (const FlatTensor& t : tensors) {
    auto it = storages.find(t.key);
    if (it == storages.end()) it = storages.emplace(t.key, make_storage_node(g, t.dtype, t.key, t.storage_numel)).first;
    const NodeId storage = it->second;
    entries.emplace_back(g.str(t.name), make_tensor_node(g, storage, t.dtype, t.storage_offset, t.sizes, t.strides));
  }
  const NodeId state = g.ordered_dict(std::move(entries));
  if (!cfg_yaml) return state;
  return g.dict({{g.str("best_state"), state}, {g.str("xp.cfg"), g.str(*cfg_yaml)}});
}

// An index or config.yaml: a regular file (never a FIFO to block on) of sane size.
std::string read_text(const std::string& path) { return read_small_regular_file(path, 256u << 20, "reading"); }

std::vector<int64_t> shape_of(const SafetensorsEntry& e) {
  std::vector<int64_t> sizes;
  for (uint64_t s : e.shape) sizes.push_back(static_cast<int64_t>(s));  // validated by the reader
  return sizes;
}

// huggingface_hub records each tied name it dropped as {dropped: kept} in the metadata
// (the index's, or a lone safetensors file's): bring those names back as views of the
// kept tensor's storage, after the stored tensors. Other metadata is left alone.
void restore_tied_names(std::vector<FlatTensor>& tensors, const std::vector<std::pair<std::string, std::string>>& meta) {
  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < tensors.size(); ++i) by_name.emplace(tensors[i].name, i);
  for (const auto& [name, kept] : meta) {
    if (!is_tied_name_record(name)) continue;
    const auto it = by_name.find(kept);
    if (it == by_name.end() || by_name.count(name)) continue;
    FlatTensor tied = tensors[it->second];
    tied.name = name;
    tensors.push_back(std::move(tied));
    by_name.emplace(name, tensors.size() - 1);
  }
}

// A safetensors member of a shard set; one without the extension is read by content, and
// its failure says that it is neither format.
SafetensorsReader open_member_safetensors(const RecognizedInput& member) {
  try {
    return SafetensorsReader(member.file);
  } catch (const InputError& e) {
    if (!member.by_content) throw;
    throw InputError(not_torch_nor_safetensors(member.file, e));
  }
}

}  // namespace

void Checkpoint::open_safetensors_file() {
  kind_ = InputKind::Safetensors;
  const SafetensorsReader reader(path_);
  inputs_ = {path_};
  std::vector<FlatTensor> tensors;
  for (const SafetensorsEntry& e : reader.entries()) {
    FlatTensor t;
    t.name = e.name;
    t.dtype = e.dtype;
    t.sizes = shape_of(e);
    t.strides = contiguous_strides(t.sizes);
    t.key = std::to_string(tensors.size());
    t.storage_numel = e.nbytes / element_size(e.dtype);
    locations_[t.key] = one_segment(0, e.data_offset, e.nbytes, std::nullopt);
    tensors.push_back(std::move(t));
  }
  const std::string* cfg = nullptr;
  for (const auto& [key, value] : reader.metadata()) {
    if (key == "xp.cfg") cfg = &value;
  }
  restore_tied_names(tensors, reader.metadata());
  graph_.root = build_root(graph_, tensors, cfg);
}

void Checkpoint::open_shard_set(const RecognizedInput& in) {
  kind_ = InputKind::ShardSet;
  // A one-file set (huggingface_hub and reshard write a single shard without an index)
  // is that file's state dict; otherwise the index says which file holds each tensor.
  const bool indexed = !in.lone_file;
  const std::string& index_path = in.file;
  // weight_map in the index's order (ordered_json): the state dict comes back in it.
  std::map<std::string, std::string> weight_map;  // tensor -> file
  std::map<std::string, std::size_t> position;    // tensor -> place in the weight_map
  std::set<std::string> files;
  std::vector<std::pair<std::string, std::string>> metadata;  // the index's string entries
  if (indexed) {
    nlohmann::ordered_json index;
    try {
      index = nlohmann::ordered_json::parse(read_text(index_path));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(index_path + ": not valid JSON: " + e.what());
    }
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
      throw InputError(index_path + ": no \"weight_map\" object (a Hugging Face-style shard index)");
    }
    for (const auto& [name, file] : index["weight_map"].items()) {
      if (!file.is_string()) throw InputError(index_path + ": weight_map['" + name + "'] is not a file name");
      const std::string f = file.get<std::string>();
      if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..") {
        throw InputError(index_path + ": weight_map['" + name + "'] names '" + f + "', not a file beside the index");
      }
      weight_map[name] = f;
      position.emplace(name, position.size());
      files.insert(f);
    }
    if (index.contains("metadata") && index["metadata"].is_object()) {
      for (const auto& [key, value] : index["metadata"].items()) {
        if (value.is_string()) metadata.emplace_back(key, value.get<std::string>());
      }
    }
  } else {
    files.insert(fs::path(in.file).filename().string());
  }
  const fs::path folder = in.folder;

  std::vector<FlatTensor> tensors;
  std::set<std::string> seen;
  for (const std::string& file : files) {  // sorted: model-00001-of-… first
    const std::string file_path = (folder / file).string();
    const auto input = static_cast<uint32_t>(inputs_.size());
    inputs_.push_back(file_path);
    const auto claim = [&](const std::string& name) {
      if (!indexed) {  // a one-file set: the file is the whole state dict
        if (!seen.insert(name).second) throw InputError(file_path + ": '" + name + "' appears twice");
        return;
      }
      const auto it = weight_map.find(name);
      if (it == weight_map.end() || it->second != file) {
        throw InputError(file_path + ": holds '" + name + "', which " + index_path +
                         (it == weight_map.end() ? " does not list" : " places in " + it->second));
      }
      if (!seen.insert(name).second) throw InputError(file_path + ": '" + name + "' appears twice in the shard set");
    };
    const RecognizedInput member = recognize_file(file_path);
    if (member.kind == InputKind::Safetensors) {
      const SafetensorsReader reader = open_member_safetensors(member);
      if (!indexed) metadata = reader.metadata();  // a lone file keeps its metadata itself
      for (const SafetensorsEntry& e : reader.entries()) {
        claim(e.name);
        FlatTensor t;
        t.name = e.name;
        t.dtype = e.dtype;
        t.sizes = shape_of(e);
        t.strides = contiguous_strides(t.sizes);
        t.key = std::to_string(input) + "/" + e.name;
        t.storage_numel = e.nbytes / element_size(e.dtype);
        locations_[t.key] = one_segment(input, e.data_offset, e.nbytes, std::nullopt);
        tensors.push_back(std::move(t));
      }
    } else {
      members_.push_back(std::make_unique<Checkpoint>(file_path));
      const Checkpoint& shard = *members_.back();
      member_scans_.push_back({file_path, scan_globals(shard.graph(), shard.root(), kScanPaths),
                               scan_irregular_tensors(shard.graph(), shard.root())});
      for (const NamedTensor& named : shard.state_dict_at("").tensors) {
        claim(named.name);
        const TensorRef& ref = named.tensor;
        const StorageLocation where = shard.storage_location(ref.storage);
        FlatTensor t;
        t.name = named.name;
        t.dtype = ref.dtype;
        t.sizes = ref.sizes;
        t.strides = ref.strides;
        t.storage_offset = ref.storage_offset;
        t.key = std::to_string(input) + "/" + ref.storage.key;  // views of one storage stay shared
        t.storage_numel = ref.storage.untyped ? ref.storage.numel / element_size(ref.dtype) : ref.storage.numel;
        const StorageSegment& run = where.segments.front();  // a torch file's storage is one run
        locations_[t.key] = one_segment(input, run.offset, run.length, run.crc32);
        tensors.push_back(std::move(t));
      }
    }
  }
  for (const auto& [name, file] : weight_map) {
    if (!seen.count(name)) throw InputError(index_path + ": lists '" + name + "' in " + file + ", which lacks it");
  }
  if (indexed) {
    std::stable_sort(tensors.begin(), tensors.end(), [&](const FlatTensor& a, const FlatTensor& b) {
      return position.at(a.name) < position.at(b.name);
    });
  }
  restore_tied_names(tensors, metadata);
  const fs::path config = folder / "config.yaml";
  std::string cfg;
  if (fs::exists(config)) cfg = read_text(config.string());
  graph_.root = build_root(graph_, tensors, fs::exists(config) ? &cfg : nullptr);
}

}  // namespace fsdpshard
