#include "checkpoint/tensor_nodes.h"

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

NodeId make_tensor_node(Graph& g, NodeId storage, DType dtype, uint64_t offset, const std::vector<int64_t>& sizes,
                        const std::vector<int64_t>& strides) {
  std::vector<NodeId> args{storage, g.integer(static_cast<int64_t>(offset)), make_int_tuple(g, sizes),
                           make_int_tuple(g, strides), g.boolean(false), g.ordered_dict()};
  const bool v3 = storage_class(dtype).empty();
  if (v3) args.push_back(g.global("torch", std::string(torch_name(dtype))));
  const NodeId rebuild = g.global("torch._utils", v3 ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2");
  return g.object(rebuild, g.tuple(std::move(args)));
}

}  // namespace fsdpshard
