// Pickle nodes for tensors fsdpshard writes: a storage persistent id and the
// _rebuild_tensor_v2/v3 call over it, as torch.save emits them.
//
// Every tensor of every output is written from parsed values only (TensorSpec), never by
// copying the input's rebuild call: whatever else a hostile call carried (backward hooks
// that run code, extra arguments) cannot reach an output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fsdpshard/util/dtype.h"
#include "fsdpshard/pickle/object_graph.h"
#include "fsdpshard/torch_pickle/tensor_ref.h"

namespace fsdpshard {

// ('storage', torch.<X>Storage, key, 'cpu', numel) as a persistent id; dtypes without a
// typed storage class (float8, uint16…) use torch.storage.UntypedStorage counting bytes.
NodeId make_storage_node(Graph& g, DType dtype, const std::string& key, uint64_t numel);

NodeId make_int_tuple(Graph& g, const std::vector<int64_t>& values);

// Row-major strides for `sizes`.
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& sizes);

// An output tensor as values. `storage` is a persistent id node that recognize_tensor
// accepted (or make_storage_node made): ('storage', torch storage class, key, location,
// numel) and nothing else, so it is written as it is.
struct TensorSpec {
  NodeId storage = kNoNode;
  DType dtype = DType::UInt8;
  uint64_t offset = 0;  // elements
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  bool requires_grad = false;
  int rebuild_version = 2;  // _rebuild_tensor_v3 is used anyway when the dtype needs it
  bool has_metadata = false;
  std::vector<std::pair<std::string, bool>> metadata;  // torch's optional str -> bool dict
  bool parameter = false;   // wrapped in torch._utils._rebuild_parameter[_with_state]
  bool parameter_requires_grad = false;
  NodeId parameter_state = kNoNode;  // _rebuild_parameter_with_state's attribute dict
};

// The values of a recognised tensor (the hooks are not among them: torch.save always
// writes an empty OrderedDict(), and so does emit_tensor).
TensorSpec spec_of(const Graph& g, const TensorRef& t);

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict()[, metadata])
// (v3 adds the dtype before the metadata), inside _rebuild_parameter(tensor, requires_grad,
// OrderedDict()[, state]) for a parameter: the forms torch.save writes.
NodeId emit_tensor(Graph& g, const TensorSpec& spec);

// A fresh tensor over `storage` (requires_grad False, no hooks): v2, or v3 for dtypes
// that only an untyped storage can hold.
NodeId make_tensor_node(Graph& g, NodeId storage, DType dtype, uint64_t offset, const std::vector<int64_t>& sizes,
                        const std::vector<int64_t>& strides);

}  // namespace fsdpshard
