// A checkpoint opened for reading: the object graph of its pickle, where each storage's
// bytes lie, and what AudioCraft puts in it (layout, state dicts, xp.cfg). Metadata only:
// tensor bytes stay on disk until an executor reads exactly the ones it needs.
//
// Besides torch.save files it opens a single .safetensors file and a sharded checkpoint
// (its *.index.json, or the folder holding one): those become a synthetic graph holding
// the state dict — with xp.cfg as YAML text next to it when the set carries one (a
// config.yaml beside the index, or "xp.cfg" in the safetensors metadata), shaped like an
// AudioCraft export {'best_state': …, 'xp.cfg': …}. An FSDP run's rank files open as
// one Checkpoint through open_source() (source/open_source.h): rank 0's graph, all rank
// files as inputs, and storages whose bytes are segments in several of them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fsdpshard/torch_pickle/global_scan.h"
#include "fsdpshard/pickle/object_graph.h"
#include "fsdpshard/torch_pickle/tensor_ref.h"
#include "fsdpshard/archive/zip_reader.h"

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

// One run of a storage's bytes: `length` bytes at `offset` of input file `input`, which
// are the storage's bytes [placement, placement + length).
struct StorageSegment {
  uint32_t input = 0;      // index into Checkpoint::inputs()
  uint64_t offset = 0;     // absolute byte offset in that file
  uint64_t length = 0;     // bytes
  uint64_t placement = 0;  // byte offset within the storage
  // The CRC-32 the input's zip directory gives for exactly these bytes (the segment is a
  // whole record of a torch.save file); absent otherwise.
  std::optional<uint32_t> crc32;
};

// Where a storage's bytes are: its segments in storage order, covering [0, size) without
// gap or overlap. A torch.save record or a safetensors tensor is one segment; a parameter
// reassembled from FSDP rank files is one segment per rank's piece (docs/FORMATS.md §6).
struct StorageLocation {
  std::vector<StorageSegment> segments;
  uint64_t size = 0;  // bytes
};

// A torch.save file a shard set is made of, scanned when the set is opened: the set's
// graph is synthesised from its tensors' values, so what else the file's own pickle
// names is only seen here (inspect lists it; outputs never carry it).
struct MemberScan {
  std::string file;
  std::vector<GlobalSite> globals;
  std::vector<IrregularTensor> irregular;
};

// What kind of input a path is (recognize_input(), source/recognize_input.h).
enum class InputKind { TorchSave, Safetensors, ShardSet, FsdpSet };
struct RecognizedInput;

class Checkpoint {
 public:
  // Opens `path` as recognize_input() sees it (a torch.save file, a .safetensors file, a
  // shard set; an FSDP run's folder opens as rank 0's file): parses its metadata and
  // checks every tensor against the bytes that hold it. InputError for anything
  // malformed, naming the file. Reading a per-rank state dict across all rank files is
  // open_source()'s (source/open_source.h).
  explicit Checkpoint(const std::string& path);
  ~Checkpoint();

  InputKind kind() const { return kind_; }
  // The torch.save files this checkpoint reads besides its own archive: the torch shards
  // of a shard set, the rank files 1..N of an FSDP set (in rank order).
  const std::vector<std::unique_ptr<Checkpoint>>& members() const { return members_; }
  // Every zip archive whose bytes this checkpoint reads: its own, then its members'.
  std::vector<const ZipReader*> archives() const;

  const std::string& path() const { return path_; }
  // The files whose bytes the storages point into (one for a torch.save file).
  const std::vector<std::string>& inputs() const { return inputs_; }
  bool is_torch_file() const { return archive_ != nullptr; }
  // The zip archive of a torch.save file; InputError for other inputs.
  const ZipReader& archive() const;
  Graph& graph() { return graph_; }
  const Graph& graph() const { return graph_; }
  NodeId root() const { return graph_.root; }

  // Where a storage's bytes are (checked at open to be present and large enough).
  StorageLocation storage_location(const StorageRef& storage) const;
  // The zip record holding a storage's bytes (a storage of this torch.save file's own
  // pickle; not a reassembled one).
  const ZipRecord& storage_record(const StorageRef& storage) const;

  Layout layout() const;
  // Every state dict at the places AudioCraft and plain torch.save put them.
  std::vector<StateDict> state_dicts() const;
  // The mapping at `dotted` as a state dict. InputError when absent or not str -> tensor.
  // For an FSDP set, the per-rank state dict it was opened with is the reassembled one.
  StateDict state_dict_at(const std::string& dotted) const;
  // xp.cfg node (a DictConfig or a YAML string), or kNoNode.
  NodeId cfg() const;
  // xp.cfg as YAML text (OmegaConf.to_yaml form), or nullopt when the file has none.
  std::optional<std::string> cfg_yaml() const;
  std::vector<GlobalUse> globals() const;
  // The torch.save shards of a shard set (empty for other inputs).
  const std::vector<MemberScan>& member_scans() const { return member_scans_; }

 private:
  friend class FsdpSetAssembly;  // source/fsdp_set.cpp: turns rank 0's file into the set
  void open_torch_file();
  void open_safetensors_file();
  void open_shard_set(const RecognizedInput& in);
  void check_storages();
  InputKind kind_ = InputKind::TorchSave;
  std::string path_;
  std::unique_ptr<ZipReader> archive_;
  std::vector<std::string> inputs_;
  std::map<std::string, StorageLocation> locations_;  // storage key -> bytes
  Graph graph_;
  std::vector<MemberScan> member_scans_;
  std::vector<std::unique_ptr<Checkpoint>> members_;
  // Dotted path -> a mapping synthesised in graph_ that stands for the one at that path
  // (an FSDP set's reassembled per-rank state dict); the graph's own stays untouched, so
  // nothing written from the graph changes.
  std::map<std::string, NodeId> reassembled_;
};

// Whether torch.load(weights_only=True) (torch 2.x) accepts the global module.name.
bool weights_only_safe(const std::string& module, const std::string& name);

}  // namespace fsdpshard
