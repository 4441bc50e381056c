#include "torch_pickle/tensor_nodes.h"

#include <algorithm>

namespace fsdpshard {

NodeId make_storage_node(Graph& g, DType dtype, const std::string& key, uint64_t numel) {
  const std::string cls(storage_class(dtype));
  const bool untyped = cls.empty();
  const uint64_t count = untyped ? numel * element_size(dtype) : numel;
  const NodeId storage_class_node = untyped ? g.global("torch.storage", "UntypedStorage") : g.global("torch", cls);
  const NodeId pid = g.tuple({g.str("storage"), storage_class_node, g.str(key), g.str("cpu"),
                              g.integer(static_cast<int64_t>(count))});
  Node node;
  node.kind = NodeKind::PersistentId;
  node.pid = pid;
  return g.add(std::move(node));
}

NodeId make_int_tuple(Graph& g, const std::vector<int64_t>& values) {
  std::vector<NodeId> items;
  for (int64_t v : values) items.push_back(g.integer(v));
  return g.tuple(std::move(items));
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> strides(sizes.size());
  int64_t stride = 1;
  for (std::size_t i = sizes.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<int64_t>(sizes[i], 1);
  }
  return strides;
}

TensorSpec spec_of(const Graph& g, const TensorRef& t) {
  TensorSpec spec;
  spec.storage = t.storage.node;
  spec.dtype = t.dtype;
  spec.offset = t.storage_offset;
  spec.sizes = t.sizes;
  spec.strides = t.strides;
  spec.requires_grad = t.requires_grad;
  spec.rebuild_version = t.rebuild_version;
  if (t.metadata != kNoNode) {
    spec.has_metadata = true;
    for (const auto& [key, value] : g.at(t.metadata).entries) spec.metadata.emplace_back(g.at(key).text, g.at(value).flag);
  }
  spec.parameter = t.parameter;
  spec.parameter_requires_grad = t.parameter_requires_grad;
  spec.parameter_state = t.parameter_state;
  return spec;
}

NodeId emit_tensor(Graph& g, const TensorSpec& spec) {
  const bool v3 = spec.rebuild_version == 3 || storage_class(spec.dtype).empty();
  std::vector<NodeId> args{spec.storage,        g.integer(static_cast<int64_t>(spec.offset)),
                           make_int_tuple(g, spec.sizes), make_int_tuple(g, spec.strides),
                           g.boolean(spec.requires_grad), g.ordered_dict()};
  if (v3) args.push_back(g.global("torch", std::string(torch_name(spec.dtype))));
  if (spec.has_metadata) {
    std::vector<std::pair<NodeId, NodeId>> entries;
    for (const auto& [key, value] : spec.metadata) entries.emplace_back(g.str(key), g.boolean(value));
    args.push_back(g.dict(std::move(entries)));
  }
  const NodeId rebuild = g.global("torch._utils", v3 ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2");
  const NodeId tensor = g.object(rebuild, g.tuple(std::move(args)));
  if (!spec.parameter) return tensor;
  const bool with_state = spec.parameter_state != kNoNode;
  std::vector<NodeId> param_args{tensor, g.boolean(spec.parameter_requires_grad), g.ordered_dict()};
  if (with_state) param_args.push_back(spec.parameter_state);
  return g.object(g.global("torch._utils", with_state ? "_rebuild_parameter_with_state" : "_rebuild_parameter"),
                  g.tuple(std::move(param_args)));
}

NodeId make_tensor_node(Graph& g, NodeId storage, DType dtype, uint64_t offset, const std::vector<int64_t>& sizes,
                        const std::vector<int64_t>& strides) {
  TensorSpec spec;
  spec.storage = storage;
  spec.dtype = dtype;
  spec.offset = offset;
  spec.sizes = sizes;
  spec.strides = strides;
  return emit_tensor(g, spec);
}

}  // namespace fsdpshard
