// Tensors as a torch.save pickle describes them: a rebuild call over a storage that is a
// persistent id naming a zip record (docs/FORMATS.md §2). Recognised from the object graph
// alone; the bytes stay on disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fsdpshard/util/dtype.h"
#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard {

struct StorageRef {
  NodeId node = kNoNode;     // the PersistentId node
  std::string key;           // record "data/<key>"
  DType dtype = DType::UInt8;
  bool untyped = false;      // torch.UntypedStorage (numel counts bytes)
  uint64_t numel = 0;        // elements of the whole storage
  std::string location;      // "cpu", "cuda:0", …
  uint64_t nbytes() const;
};

struct TensorRef {
  NodeId node = kNoNode;        // the tensor Object (or the Parameter wrapping it)
  NodeId tensor_node = kNoNode; // the _rebuild_tensor_v2/v3 Object itself
  bool parameter = false;       // wrapped by torch._utils._rebuild_parameter
  StorageRef storage;
  DType dtype = DType::UInt8;   // the tensor's dtype (differs from storage only when untyped)
  uint64_t storage_offset = 0;  // in elements
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  // What else the rebuild call says, kept to write the tensor again from these values
  // alone (tensor_nodes.h): nothing of the input's call is copied into an output.
  int rebuild_version = 2;        // _rebuild_tensor_v2 or _v3
  bool requires_grad = false;
  NodeId metadata = kNoNode;      // the optional metadata dict (str -> bool), when present
  bool parameter_requires_grad = false;
  NodeId parameter_state = kNoNode;  // _rebuild_parameter_with_state's attribute dict
  // Why the rebuild call is not one torch.save writes (backward hooks that are not an
  // empty OrderedDict(), an extra argument, a BUILD on the tensor…); "" when it is one.
  // Reading tolerates it; writing refuses it (output_guard.h).
  std::string irregular;

  uint64_t numel() const;
  uint64_t nbytes() const { return numel() * element_size(dtype); }
  bool contiguous() const;     // C-contiguous (any strides on size-1 dims)
  // Byte range [first, end) of the storage that the view can touch; {0,0} when empty.
  std::pair<uint64_t, uint64_t> byte_span() const;
};

// Recognises a tensor or nn.Parameter at `id`. Returns nullopt when `id` is not one.
// Throws InputError (with `where` in the message) when it is a tensor rebuild whose
// arguments are malformed or whose view reaches past its storage.
std::optional<TensorRef> recognize_tensor(const Graph& graph, NodeId id, const std::string& where);

}  // namespace fsdpshard
