#include "formats/fsdp_rank_output.h"

#include <algorithm>

#include "torch_pickle/tensor_nodes.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/formats/output_state.h"
#include "fsdpshard/source/storage_segments.h"
#include "fsdpshard/torch_pickle/tensor_ref.h"
#include "pickle/graph_walk.h"

namespace fsdpshard {

NodeId RelayoutContext::str(const std::string& text) {
  auto it = strs.find(text);
  if (it == strs.end()) it = strs.emplace(text, g.str(text)).first;
  return it->second;
}

NodeId RankOutput::add_storage(PlannedRecord record) {
  const std::string key = std::to_string(next_key_++);
  record.name = "data/" + key;
  const NodeId pid = make_storage_node(ctx_.g, record.dtype, key, record.count);
  new_keys_[key] = true;
  records_.push_back(std::move(record));
  return pid;
}

NodeId RankOutput::tensor(NodeId pid, DType dtype, uint64_t offset, uint64_t count) {
  const std::vector<int64_t> sizes{static_cast<int64_t>(count)};
  return make_tensor_node(ctx_.g, pid, dtype, offset, sizes, contiguous_strides(sizes));
}

uint64_t piece_offset(const FsdpRankFiles& files, int rank, const TensorRef& t) {
  return files.ranks[static_cast<std::size_t>(rank)]->storage_record(t.storage).data_offset +
         t.storage_offset * element_size(t.dtype);
}

void RankOutput::add_param_runs(PlannedRecord& r, const FlatUnit& old_unit, std::size_t k,
                                const std::vector<TensorRef>& pieces, uint64_t param_offset, uint64_t count) const {
  for (const OldRun& run : old_runs(old_unit, k, param_offset, count)) {
    const TensorRef& t = pieces[static_cast<std::size_t>(run.rank)];
    r.add_segment(static_cast<uint32_t>(run.rank), piece_offset(ctx_.files, run.rank, t) + run.offset * element_size(t.dtype),
                  run.count);
  }
}

std::vector<PlannedRecord> RankOutput::records_for(NodeId root) const {
  std::vector<PlannedRecord> records = records_;
  const Graph& g = ctx_.g;
  const Checkpoint& rank0 = *ctx_.files.ranks[0];
  std::vector<bool> seen(g.size(), false);
  std::vector<NodeId> stack{root};
  std::map<std::string, bool> copied;
  while (!stack.empty()) {
    const NodeId id = stack.back();
    stack.pop_back();
    if (id == kNoNode || seen[id]) continue;
    seen[id] = true;
    const Node& node = g.at(id);
    if (node.kind == NodeKind::Object) {
      if (const auto t = recognize_tensor(g, id, rank0.path())) {
        const StorageRef& s = t->storage;
        if (!new_keys_.count(s.key) && !copied[s.key]) {
          // A tensor passed through from rank 0's file: copy its whole storage.
          copied[s.key] = true;
          const StorageLocation where = rank0.storage_location(s);
          PlannedRecord r;
          r.name = "data/" + s.key;
          r.source_dtype = r.dtype = s.untyped ? DType::UInt8 : s.dtype;
          add_storage_run(r, where, 0, s.numel, r.source_dtype, rank0.path());
          keep_input_crc(r, where);
          records.push_back(std::move(r));
        }
        continue;
      }
    }
    for (std::size_t i = 0; i < graph_walk::slot_count(node); ++i) stack.push_back(graph_walk::slot(node, i));
  }
  // torch.save numbers records in pickle order; any order loads, key order reads best.
  auto number = [](const PlannedRecord& r) {
    const std::string key = r.name.substr(5);
    return key.find_first_not_of("0123456789") == std::string::npos && !key.empty() ? std::stoull(key) : UINT64_MAX;
  };
  std::stable_sort(records.begin(), records.end(),
                   [&](const PlannedRecord& a, const PlannedRecord& b) { return number(a) < number(b); });
  return records;
}

NodeId with_path(Graph& g, NodeId mapping, const std::vector<std::string>& keys, NodeId value) {
  if (!g.is_mapping(mapping)) throw InputError("expected a mapping on the way to '" + keys.front() + "'");
  const NodeId inner = keys.size() == 1 ? value
                                        : with_path(g, g.get(mapping, keys.front()),
                                                    std::vector<std::string>(keys.begin() + 1, keys.end()), value);
  Node copy = g.at(mapping);  // by value: g.str() below may move the arena
  bool replaced = false;
  for (auto& [key, v] : copy.entries) {
    if (g.is_str(key, keys.front())) {
      v = inner;
      replaced = true;
    }
  }
  if (!replaced) copy.entries.emplace_back(g.str(keys.front()), inner);
  return g.add(std::move(copy));
}

}  // namespace fsdpshard
