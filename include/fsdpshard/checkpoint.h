// A torch.save checkpoint opened for reading: the zip archive, the object graph of its
// data.pkl, and what AudioCraft puts in it (layout, state dicts, xp.cfg). Metadata only:
// tensor bytes stay on disk until an executor reads exactly the ones it needs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fsdpshard/object_graph.h"
#include "fsdpshard/tensor_ref.h"
#include "fsdpshard/zip_reader.h"

namespace fsdpshard {

enum class Layout { Training, FsdpRank0, FsdpRankShard, Exported, StateDict, Unknown };
const char* layout_name(Layout layout);

// One entry of a state dict: a tensor under its key.
struct NamedTensor {
  std::string name;
  NodeId key = kNoNode;    // the key node (a Str)
  NodeId value = kNoNode;  // the tensor / Parameter node
  TensorRef tensor;
};

// A mapping of str -> tensor found somewhere in the checkpoint.
struct StateDict {
  std::string path;         // dotted path from the top ("fsdp_best_state.model"); "" = whole file
  NodeId mapping = kNoNode;
  std::vector<NamedTensor> tensors;  // in the mapping's order
  uint64_t nbytes() const;
};

// A Python global the pickle names, and whether torch.load(weights_only=True) allows it.
struct GlobalUse {
  std::string name;  // "module.qualname"
  bool weights_only_safe = false;
};

class Checkpoint {
 public:
  // Opens `path`, parses data.pkl and checks every tensor against its storage record.
  // InputError for anything malformed, naming the file.
  explicit Checkpoint(const std::string& path);

  const std::string& path() const { return archive_.path(); }
  const ZipReader& archive() const { return archive_; }
  Graph& graph() { return graph_; }
  const Graph& graph() const { return graph_; }
  NodeId root() const { return graph_.root; }

  // The zip record holding a storage's bytes (checked to be present and large enough).
  const ZipRecord& storage_record(const StorageRef& storage) const;

  Layout layout() const;
  // Every state dict at the places AudioCraft and plain torch.save put them.
  std::vector<StateDict> state_dicts() const;
  // The mapping at `dotted` as a state dict. InputError when absent or not str -> tensor.
  StateDict state_dict_at(const std::string& dotted) const;
  // xp.cfg node (a DictConfig or a YAML string), or kNoNode.
  NodeId cfg() const;
  // xp.cfg as YAML text (OmegaConf.to_yaml form), or nullopt when the file has none.
  std::optional<std::string> cfg_yaml() const;
  std::vector<GlobalUse> globals() const;

 private:
  void check_storages();
  ZipReader archive_;
  Graph graph_;
};

// Whether torch.load(weights_only=True) (torch 2.x) accepts the global module.name.
bool weights_only_safe(const std::string& module, const std::string& name);

}  // namespace fsdpshard
