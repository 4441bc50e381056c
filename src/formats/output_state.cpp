#include "fsdpshard/formats/output_state.h"

#include <map>

#include "torch_pickle/tensor_nodes.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/source/storage_segments.h"

namespace fsdpshard {
namespace {

// The input's tensor `like`, written from its values over `storage` with `offset`/`strides`
// and `dtype` (tensor_nodes.h: nothing of the input's rebuild call is copied).
NodeId make_tensor(Graph& g, const TensorRef& like, NodeId storage, DType dtype, uint64_t offset,
                   const std::vector<int64_t>& strides) {
  TensorSpec spec = spec_of(g, like);
  if (storage_class(dtype).empty() && like.rebuild_version != 3) {
    throw InputError(std::string("dtype ") + std::string(torch_name(dtype)) + " needs _rebuild_tensor_v3");
  }
  spec.storage = storage;
  spec.dtype = dtype;
  spec.offset = offset;
  spec.strides = strides;
  return emit_tensor(g, spec);
}

// A new mapping of the same kind as `like` (a dict, or an OrderedDict keeping its BUILD
// state, which holds `_metadata`).
NodeId make_mapping_like(Graph& g, NodeId like) {
  const Node old = g.at(like);  // a copy: g.object() may move the arena's nodes
  if (old.kind == NodeKind::Dict) return g.dict();
  const NodeId copy = g.object(old.callable, old.args, old.construct);
  g.at(copy).kwargs = old.kwargs;
  g.at(copy).state = old.state;
  return copy;
}

}  // namespace

OutputState build_output_state(Checkpoint& ckpt, const StateDict& source,
                               const std::vector<Selected>& selected) {
  Graph& g = ckpt.graph();
  // How many selected tensors use each input storage.
  std::map<std::string, int> users;
  for (const Selected& s : selected) users[source.tensors[s.index].tensor.storage.key] += 1;

  OutputState out;
  out.mapping = make_mapping_like(g, source.mapping);
  std::map<std::string, std::pair<std::size_t, NodeId>> shared;  // input key -> output storage, pid
  for (const Selected& s : selected) {
    const NamedTensor& named = source.tensors[s.index];
    const TensorRef& t = named.tensor;
    const StorageLocation where = ckpt.storage_location(t.storage);
    const bool whole = writes_whole_storage(t, users[t.storage.key]);
    if (whole && t.storage.untyped && t.dtype != s.dtype) {
      throw InputError(ckpt.path() + ": '" + named.name + "' shares an untyped storage; it cannot be cast");
    }
    std::size_t storage_index;
    NodeId pid;
    uint64_t offset;
    std::vector<int64_t> strides;
    if (whole) {
      auto it = shared.find(t.storage.key);
      if (it == shared.end()) {
        PlannedRecord r;
        r.name = "data/" + std::to_string(out.storages.size());
        r.source_dtype = t.storage.untyped ? DType::UInt8 : t.storage.dtype;
        r.dtype = t.storage.untyped ? DType::UInt8 : s.dtype;
        add_storage_run(r, where, 0, t.storage.numel, r.source_dtype, ckpt.path() + ": '" + named.name + "'");
        keep_input_crc(r, where);
        pid = make_storage_node(g, t.storage.untyped ? t.dtype : s.dtype, std::to_string(out.storages.size()),
                           t.storage.untyped ? t.storage.numel / element_size(t.dtype) : t.storage.numel);
        it = shared.emplace(t.storage.key, std::make_pair(out.storages.size(), pid)).first;
        out.storages.push_back(std::move(r));
      }
      storage_index = it->second.first;
      pid = it->second.second;
      offset = t.storage_offset;
      strides = t.strides;
    } else {
      PlannedRecord r;
      r.name = "data/" + std::to_string(out.storages.size());
      add_storage_run(r, where, t.storage_offset * element_size(t.dtype), t.numel(), t.dtype,
                      ckpt.path() + ": '" + named.name + "'");
      r.source_dtype = t.dtype;
      r.dtype = s.dtype;
      keep_input_crc(r, where);
      storage_index = out.storages.size();
      pid = make_storage_node(g, s.dtype, std::to_string(storage_index), r.count);
      out.storages.push_back(std::move(r));
      offset = 0;
      strides = contiguous_strides(t.sizes);
    }
    const NodeId node = make_tensor(g, t, pid, s.dtype, offset, strides);
    const NodeId key = s.name == named.name ? named.key : g.str(s.name);
    g.at(out.mapping).entries.emplace_back(key, node);
    out.tensors.push_back({s.name, s.dtype, t.sizes, t.numel() * element_size(s.dtype), storage_index, offset,
                           t.contiguous(), node});
  }
  return out;
}

bool writes_whole_storage(const TensorRef& t, int users) {
  return users > 1 || !t.contiguous() || t.dtype != t.storage.dtype;
}

void keep_input_crc(PlannedRecord& r, const StorageLocation& where) {
  if (!r.copies_unchanged()) return;
  // The record is one run: it keeps a CRC when that run is a whole input record.
  for (const StorageSegment& segment : where.segments) {
    if (segment.crc32 && r.segments[0].input == segment.input && r.segments[0].offset == segment.offset &&
        r.source_bytes() == segment.length) {
      r.crc32 = segment.crc32;
      return;
    }
  }
}

}  // namespace fsdpshard
