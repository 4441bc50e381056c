#include "source/fsdp_set.h"

#include "torch_pickle/tensor_nodes.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/torch_pickle/global_scan.h"
#include "fsdpshard/source/storage_segments.h"

namespace fsdpshard {
namespace {

// A new, empty mapping of the same kind as `like` (AudioCraft's model state is a plain
// dict; an OrderedDict keeps its BUILD state, which holds `_metadata`).
NodeId empty_mapping_like(Graph& g, NodeId like) {
  const Node old = g.at(like);  // a copy: g.object() may move the arena's nodes
  if (old.kind == NodeKind::Dict) return g.dict();
  const NodeId copy = g.object(old.callable, old.args, old.construct);
  g.at(copy).state = old.state;
  return copy;
}

}  // namespace

std::unique_ptr<Checkpoint> FsdpSetAssembly::open(const std::string& input, const std::string& from,
                                                  const FsdpOptions& options) {
  FsdpRankFiles files = open_rank_files(input);
  const ShardedState s = open_sharded_state(files, from, options);
  std::unique_ptr<Checkpoint> set = std::move(files.ranks[0]);
  Graph& g = set->graph_;

  const NodeId mapping = empty_mapping_like(g, s.per_rank[0].mapping);
  for (std::size_t i = 0; i < s.names.size(); ++i) {
    // A storage key no record of rank 0's file has (records are "data/<key>").
    std::string key = "fsdp-set/" + std::to_string(i);
    while (set->locations_.count(key)) key += "'";
    StorageLocation where;
    for (int rank = 0; rank < files.world(); ++rank) {
      const TensorRef& t = s.piece(i, rank).tensor;
      if (t.numel() == 0) continue;
      const Checkpoint& file = rank == 0 ? *set : *files.ranks[static_cast<std::size_t>(rank)];
      const ZipRecord& record = file.storage_record(t.storage);
      const uint64_t offset = t.storage_offset * element_size(t.dtype);
      const bool whole_record = offset == 0 && t.nbytes() == record.size;
      append_segment(where, static_cast<uint32_t>(rank), record.data_offset + offset, t.nbytes(),
                     whole_record ? std::optional<uint32_t>(record.crc32) : std::nullopt);
    }
    const uint64_t count = where.size / element_size(s.dtypes[i]);
    if (count != s.numels[i]) {
      throw InputError("'" + s.names[i] + "': its pieces hold " + std::to_string(count) + " elements, its shape " +
                       std::to_string(s.numels[i]));
    }
    const NodeId pid = make_storage_node(g, s.dtypes[i], key, count);
    const NodeId tensor = make_tensor_node(g, pid, s.dtypes[i], 0, s.shapes[i], contiguous_strides(s.shapes[i]));
    g.at(mapping).entries.emplace_back(s.piece(i, 0).key, tensor);
    set->locations_[key] = std::move(where);
  }
  set->reassembled_[from] = mapping;
  set->kind_ = InputKind::FsdpSet;
  set->inputs_ = files.paths;
  for (int rank = 1; rank < files.world(); ++rank) {
    Checkpoint& file = *files.ranks[static_cast<std::size_t>(rank)];
    // What each rank's own pickle holds is checked as a shard set's members are.
    set->member_scans_.push_back({file.path(), scan_globals(file.graph(), file.root(), kScanPaths),
                                  scan_irregular_tensors(file.graph(), file.root())});
    set->members_.push_back(std::move(files.ranks[static_cast<std::size_t>(rank)]));
  }
  return set;
}

}  // namespace fsdpshard
