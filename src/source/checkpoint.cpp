#include "fsdpshard/source/checkpoint.h"

#include <filesystem>
#include <map>
#include <set>

#include "fsdpshard/config/cfg.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/torch_pickle/global_allow_list.h"
#include "fsdpshard/source/recognize_input.h"
#include "fsdpshard/source/storage_segments.h"
#include "fsdpshard/pickle/unpickler.h"

namespace fsdpshard {

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::Training: return "training";
    case Layout::FsdpRank0: return "fsdp-rank0";
    case Layout::FsdpRankShard: return "fsdp-rank-shard";
    case Layout::Exported: return "exported";
    case Layout::StateDict: return "state-dict";
    case Layout::Unknown: break;
  }
  return "unknown";
}

uint64_t StateDict::nbytes() const {
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.tensor.nbytes();
  return total;
}

Checkpoint::Checkpoint(const std::string& path) : path_(path) {
  const RecognizedInput in = recognize_input(path);
  switch (in.kind) {
    case InputKind::FsdpSet:  // opened alone here; open_source() makes it the whole set
      path_ = in.file;
      open_torch_file();
      break;
    case InputKind::TorchSave: open_torch_file(); break;
    case InputKind::Safetensors:
      if (!in.by_content) {
        open_safetensors_file();
        break;
      }
      try {
        open_safetensors_file();
      } catch (const InputError& e) {
        throw InputError(not_torch_nor_safetensors(path, e));
      }
      break;
    case InputKind::ShardSet: open_shard_set(in); break;
  }
}

Checkpoint::~Checkpoint() = default;

std::vector<const ZipReader*> Checkpoint::archives() const {
  std::vector<const ZipReader*> out;
  if (archive_) out.push_back(archive_.get());
  for (const auto& member : members_) {
    for (const ZipReader* zip : member->archives()) out.push_back(zip);
  }
  return out;
}

std::string not_torch_nor_safetensors(const std::string& file, const InputError& why) {
  std::string reason = why.what();
  if (reason.compare(0, file.size() + 2, file + ": ") == 0) reason = reason.substr(file.size() + 2);
  // "not a safetensors file (why)" from the reader says half of this message already.
  const std::string said = "not a safetensors file (";
  if (reason.compare(0, said.size(), said) == 0 && reason.back() == ')') {
    reason = reason.substr(said.size(), reason.size() - said.size() - 1);
  }
  return file + ": not a zip archive (torch.save files start with PK\\x03\\x04) nor a safetensors file (" + reason +
         ")";
}

void Checkpoint::open_torch_file() {
  kind_ = InputKind::TorchSave;
  archive_ = std::make_unique<ZipReader>(path_);
  inputs_ = {path_};
  const ZipRecord& pkl = archive_->require("data.pkl");
  const std::string stream = archive_->read(pkl);
  unpickle(stream, graph_, path_ + ": data.pkl");
  check_storages();
}

const ZipReader& Checkpoint::archive() const {
  if (!archive_) throw InputError(path_ + ": not a torch.save file");
  return *archive_;
}

namespace {

// How a persistent id names its storage's type, for messages: "torch.HalfStorage of 8 elements".
std::string describe_storage(const StorageRef& s) {
  const std::string cls = s.untyped ? "UntypedStorage" : std::string(storage_class(s.dtype));
  return "torch." + cls + " of " + std::to_string(s.numel) + (s.untyped ? " bytes" : " elements");
}

// torch.load builds a storage once, from its first persistent id, and hands that object to
// every later reference. Two references that agree on bytes-as-bytes (UntypedStorage or
// ByteStorage of the same size: what torch 2.x writes for a float8 tensor and its uint8
// view) read the same everywhere. Any other difference (HalfStorage here, FloatStorage
// there) torch.save never writes, and torch 1.13 and 2.x load it differently (the first
// one's dtype for all, or each tensor's own dtype over the same bytes): refused.
bool same_storage(const StorageRef& a, const StorageRef& b) {
  const auto bytes = [](const StorageRef& s) { return s.untyped || s.dtype == DType::UInt8; };
  if (bytes(a) && bytes(b)) return a.nbytes() == b.nbytes();
  return a.untyped == b.untyped && a.dtype == b.dtype && a.numel == b.numel;
}

}  // namespace

void Checkpoint::check_storages() {
  // Every tensor of the file, wherever it is, must lie inside a present record: the arena
  // holds them all, so no walk (and no recursion) is needed.
  std::map<std::string, StorageRef> first_reference;
  for (NodeId id = 0; id < graph_.size(); ++id) {
    if (graph_.at(id).kind != NodeKind::Object) continue;
    const auto tensor = recognize_tensor(graph_, id, path() + ": data.pkl");
    if (!tensor) continue;
    const auto [first, fresh] = first_reference.emplace(tensor->storage.key, tensor->storage);
    if (!fresh && !same_storage(first->second, tensor->storage)) {
      throw InputError(path() + ": storage 'data/" + tensor->storage.key + "' is referenced both as " +
                       describe_storage(first->second) + " and as " + describe_storage(tensor->storage) +
                       ": torch.save never writes this, and torch versions read it differently (1.13 gives "
                       "every tensor the first one's dtype, 2.x reinterprets the bytes)");
    }
    const ZipRecord& record = storage_record(tensor->storage);
    locations_[tensor->storage.key] = one_segment(0, record.data_offset, record.size, record.crc32);
  }
}

StorageLocation Checkpoint::storage_location(const StorageRef& storage) const {
  const auto it = locations_.find(storage.key);
  if (it == locations_.end()) throw InputError(path() + ": no bytes for storage '" + storage.key + "'");
  return it->second;
}

const ZipRecord& Checkpoint::storage_record(const StorageRef& storage) const {
  const std::string name = "data/" + storage.key;
  const ZipRecord* record = archive().find(name);
  if (!record) {
    throw InputError(path() + ": missing record '" + name + "' that a tensor's storage names");
  }
  if (record->size < storage.nbytes()) {
    throw InputError(path() + ": record '" + name + "' holds " + std::to_string(record->size) +
                     " bytes but its storage needs " + std::to_string(storage.nbytes()));
  }
  if (record->method != 0) {
    // torch.load inflates such a record, but torch.save never writes one, and fsdpshard
    // moves tensor bytes from file to file in place (pread, copy_file_range): refused.
    throw InputError(path() + ": tensor record '" + name + "' is deflate-compressed; fsdpshard reads tensor "
                     "records only stored, as torch.save writes them (load and torch.save the file again)");
  }
  return *record;
}

namespace {

// A mapping whose values are all tensors (an empty mapping counts).
bool is_tensor_mapping(const Graph& g, NodeId id) {
  if (!g.is_mapping(id)) return false;
  for (const auto& [key, value] : g.at(id).entries) {
    const std::string type = g.type_name(value);
    if (type != "torch.Tensor" && type != "torch.nn.Parameter") return false;
  }
  return true;
}

bool is_true(const Graph& g, NodeId id) {
  return id != kNoNode && g.at(id).kind == NodeKind::Bool && g.at(id).flag;
}

std::size_t entry_count(const Graph& g, NodeId id) {
  return g.is_mapping(id) ? g.at(id).entries.size() : 0;
}

}  // namespace

StateDict Checkpoint::state_dict_at(const std::string& dotted) const {
  const auto reassembled = reassembled_.find(dotted);
  const NodeId mapping = reassembled != reassembled_.end() ? reassembled->second : graph_.get_path(root(), dotted);
  const std::string where = path() + ": '" + (dotted.empty() ? std::string("<whole file>") : dotted) + "'";
  if (mapping == kNoNode) throw InputError(where + " not found");
  if (!graph_.is_mapping(mapping)) {
    throw InputError(where + " is a " + graph_.type_name(mapping) + ", not a dict of tensors");
  }
  StateDict sd;
  sd.path = dotted;
  sd.mapping = mapping;
  std::set<std::string> seen;
  for (const auto& [key, value] : graph_.at(mapping).entries) {
    if (graph_.at(key).kind != NodeKind::Str) {
      throw InputError(where + " has a key of type " + graph_.type_name(key) +
                       "; state dict keys are strings");
    }
    const std::string& name = graph_.at(key).text;
    if (!seen.insert(name).second) throw InputError(where + " has the key '" + name + "' twice");
    auto tensor = recognize_tensor(graph_, value, where + "['" + name + "']");
    if (!tensor) {
      throw InputError(where + "['" + name + "'] is a " + graph_.type_name(value) + ", not a tensor");
    }
    sd.tensors.push_back({name, key, value, std::move(*tensor)});
  }
  return sd;
}

std::vector<StateDict> Checkpoint::state_dicts() const {
  static const char* const kKnownPaths[] = {"fsdp_best_state.model", "best_state.model", "best_state",
                                            "model", "ema.state.model", "state_dict"};
  std::vector<StateDict> found;
  if (is_tensor_mapping(graph_, root()) && entry_count(graph_, root()) > 0) {
    found.push_back(state_dict_at(""));
    return found;
  }
  for (const char* candidate : kKnownPaths) {
    const NodeId mapping = graph_.get_path(root(), candidate);
    if (mapping == kNoNode || !is_tensor_mapping(graph_, mapping)) continue;
    found.push_back(state_dict_at(candidate));
  }
  return found;
}

Layout Checkpoint::layout() const {
  const NodeId top = root();
  if (!graph_.is_mapping(top)) return Layout::Unknown;
  const NodeId best = graph_.get(top, "best_state");
  const NodeId cfg_node = graph_.get(top, "xp.cfg");
  if (is_true(graph_, graph_.get(top, "exported")) ||
      (cfg_node != kNoNode && graph_.at(cfg_node).kind == NodeKind::Str && is_tensor_mapping(graph_, best))) {
    return Layout::Exported;
  }
  const NodeId fsdp = graph_.get(top, "fsdp_best_state");
  if (fsdp != kNoNode) {
    const NodeId fsdp_model = graph_.get(fsdp, "model");
    if (entry_count(graph_, fsdp_model) > 0) return Layout::FsdpRank0;
    if (fsdp_model != kNoNode) return Layout::FsdpRankShard;
    return Layout::Training;
  }
  if (best != kNoNode || graph_.get(top, "model") != kNoNode) return Layout::Training;
  if (is_tensor_mapping(graph_, top) && entry_count(graph_, top) > 0) return Layout::StateDict;
  return Layout::Unknown;
}

NodeId Checkpoint::cfg() const {
  return graph_.is_mapping(root()) ? graph_.get(root(), "xp.cfg") : kNoNode;
}

std::optional<std::string> Checkpoint::cfg_yaml() const {
  const NodeId node = cfg();
  if (node == kNoNode) return std::nullopt;
  // The config readers name the config path ("xp.cfg.model: …"); an error line must
  // also name the file.
  try {
    if (graph_.at(node).kind == NodeKind::Str) return normalize_yaml(graph_.at(node).text);
    if (is_dictconfig(graph_, node)) return dictconfig_to_yaml(graph_, node);
  } catch (const InputError& e) {
    throw InputError(path() + ": " + e.what());
  }
  throw InputError(path() + ": xp.cfg is a " + graph_.type_name(node) + ", neither a DictConfig nor YAML text");
}

std::vector<GlobalUse> Checkpoint::globals() const {
  std::map<std::string, bool> names;  // "module.name" -> safe, sorted as Python sorts the strings
  for (NodeId id = 0; id < graph_.size(); ++id) {
    const Node& n = graph_.at(id);
    if (n.kind == NodeKind::Global) names.emplace(n.text + "." + n.name, weights_only_safe(n.text, n.name));
  }
  std::vector<GlobalUse> uses;
  for (const auto& [name, safe] : names) uses.push_back({name, safe});
  return uses;
}

bool weights_only_safe(const std::string& module, const std::string& name) {
  return global_verdict(module, name) == GlobalVerdict::WeightsOnlySafe;
}

}  // namespace fsdpshard
