// Pickle nodes for tensors fsdpshard writes: a storage persistent id and the
// _rebuild_tensor_v2/v3 call over it, as torch.save emits them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fsdpshard/dtype.h"
#include "fsdpshard/object_graph.h"

namespace fsdpshard {

// ('storage', torch.<X>Storage, key, 'cpu', numel) as a persistent id; dtypes without a
// typed storage class (float8, uint16…) use torch.storage.UntypedStorage counting bytes.
NodeId make_storage_node(Graph& g, DType dtype, const std::string& key, uint64_t numel);

NodeId make_int_tuple(Graph& g, const std::vector<int64_t>& values);

// Row-major strides for `sizes`.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& sizes);

// A fresh tensor over `storage` (requires_grad False, no hooks): v2, or v3 for dtypes
// that only an untyped storage can hold.
NodeId make_tensor_node(Graph& g, NodeId storage, DType dtype, uint64_t offset, const std::vector<int64_t>& sizes,
                        const std::vector<int64_t>& strides);

}  // namespace fsdpshard
