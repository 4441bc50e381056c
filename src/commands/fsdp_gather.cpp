#include "commands/fsdp_gather.h"

#include "checkpoint/tensor_nodes.h"
#include "fsdpshard/error.h"

namespace fsdpshard {

bool wants_fsdp_gather(const std::string& input, const std::string& from) {
  if (from == "auto" || from == "whole" || from == "." || from.rfind("fsdp_best_state", 0) == 0) return false;
  if (!looks_like_rank0(input)) return false;
  const Checkpoint probe(fsdp_rank0_path(input));
  const Layout layout = probe.layout();
  return layout == Layout::FsdpRank0 || layout == Layout::FsdpRankShard;
}

FsdpGathered gather_fsdp_state(const std::string& input, const std::string& from, const FsdpOptions& fsdp,
                               const SelectionOptions& selection) {
  FsdpGathered out{open_rank_files(input), {}, {}};
  out.sharded = open_sharded_state(out.files, from, fsdp);
  const ShardedState& s = out.sharded;
  Checkpoint& rank0 = *out.files.ranks[0];
  Graph& g = rank0.graph();
  const auto selected = select_tensors(s.names, s.dtypes, selection);

  // The output mapping is of the input's kind (AudioCraft's model state is a plain dict).
  const Node like = g.at(s.per_rank[0].mapping);  // a copy: g.object() may move the arena's nodes
  if (like.kind == NodeKind::Dict) {
    out.state.mapping = g.dict();
  } else {
    out.state.mapping = g.object(like.callable, like.args, like.construct);
    g.at(out.state.mapping).state = like.state;  // keeps an OrderedDict's _metadata
  }
  for (const Selected& sel : selected) {
    const std::size_t i = sel.index;
    PlannedRecord r;
    r.name = "data/" + std::to_string(out.state.storages.size());
    r.source_dtype = s.dtypes[i];
    r.dtype = sel.dtype;
    for (int rank = 0; rank < out.files.world(); ++rank) {
      const TensorRef& t = s.piece(i, rank).tensor;
      if (t.numel() == 0) continue;
      const uint64_t offset =
          out.files.ranks[rank]->storage_record(t.storage).data_offset + t.storage_offset * element_size(t.dtype);
      r.add_segment(static_cast<uint32_t>(rank), offset, t.numel());
    }
    if (r.count != s.numels[i]) {
      throw InputError("'" + s.names[i] + "': its pieces hold " + std::to_string(r.count) + " elements, its shape " +
                       std::to_string(s.numels[i]));
    }
    const std::size_t storage = out.state.storages.size();
    const NodeId pid = make_storage_node(g, sel.dtype, std::to_string(storage), r.count);
    const NodeId node = make_tensor_node(g, pid, sel.dtype, 0, s.shapes[i], contiguous_strides(s.shapes[i]));
    const NamedTensor& first = s.piece(i, 0);
    const NodeId key = sel.name == first.name ? first.key : g.str(sel.name);
    g.at(out.state.mapping).entries.emplace_back(key, node);
    out.state.tensors.push_back({sel.name, sel.dtype, s.shapes[i], r.bytes(), storage, 0, true, node});
    out.state.storages.push_back(std::move(r));
  }
  return out;
}

}  // namespace fsdpshard
