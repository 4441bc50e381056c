#include "fsdpshard/torch_pickle/tensor_ref.h"

#include <limits>

#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

constexpr uint64_t kMaxElements = uint64_t{1} << 56;  // far above any real tensor; no overflow below

bool is_rebuild_tensor(const Graph& g, NodeId id, int* version) {
  const Node* cls = g.class_of(id);
  if (!cls || cls->text != "torch._utils") return false;
  if (cls->name == "_rebuild_tensor_v2") *version = 2;
  else if (cls->name == "_rebuild_tensor_v3") *version = 3;
  else return false;
  return true;
}

bool is_rebuild_parameter(const Graph& g, NodeId id) {
  const Node* cls = g.class_of(id);
  return cls && cls->text == "torch._utils" &&
         (cls->name == "_rebuild_parameter" || cls->name == "_rebuild_parameter_with_state");
}

const std::vector<NodeId>& tuple_items(const Graph& g, NodeId id, const std::string& where,
                                       const char* what) {
  if (id == kNoNode || g.at(id).kind != NodeKind::Tuple) {
    throw InputError(where + ": tensor " + what + " is not a tuple");
  }
  return g.at(id).items;
}

int64_t int_at(const Graph& g, NodeId id, const std::string& where, const char* what) {
  if (id == kNoNode || g.at(id).kind != NodeKind::Int) {
    throw InputError(where + ": tensor " + what + " is not an integer");
  }
  return g.at(id).int_value;
}

std::vector<int64_t> int_tuple(const Graph& g, NodeId id, const std::string& where, const char* what) {
  // torch.Size pickles as a plain tuple in _rebuild_tensor_v2 arguments.
  std::vector<int64_t> values;
  for (NodeId item : tuple_items(g, id, where, what)) {
    const int64_t v = int_at(g, item, where, what);
    if (v < 0) throw InputError(where + ": tensor " + what + " has a negative entry");
    values.push_back(v);
  }
  return values;
}

const std::string& str_at(const Graph& g, NodeId id, const std::string& where, const char* what) {
  if (id == kNoNode || g.at(id).kind != NodeKind::Str) {
    throw InputError(where + ": storage " + what + " is not a string");
  }
  return g.at(id).text;
}

// Why a storage class is refused. torch's typed storage classes are the legacy dtypes
// only: torch 2.x saves float8, uint16/32/64, complex32, float4 and bits tensors as
// torch.UntypedStorage with _rebuild_tensor_v3, and has no "Float8_e4m3fnStorage" at all
// (torch.load of one fails in find_class).
std::string unknown_storage_class(const std::string& name) {
  const std::string cls = "torch." + name;
  if (name.size() > 7 && name.compare(0, 1, "Q") == 0 && name.compare(name.size() - 7, 7, "Storage") == 0) {
    return "storage class " + cls + " holds quantized tensors, which fsdpshard does not read";
  }
  return "unknown storage class " + cls +
         " (not one torch.save writes: torch 2.x saves float8 and the other new dtypes as"
         " torch.UntypedStorage with _rebuild_tensor_v3, and torch.load fails on this one)";
}

StorageRef parse_storage(const Graph& g, NodeId pid_node, const std::string& where) {
  if (pid_node == kNoNode || g.at(pid_node).kind != NodeKind::PersistentId) {
    throw InputError(where + ": tensor storage is not a persistent id");
  }
  const auto& pid = tuple_items(g, g.at(pid_node).pid, where, "storage id");
  if (pid.size() != 5 || !g.is_str(pid[0], "storage")) {
    throw InputError(where + ": storage persistent id is not ('storage', class, key, location, numel)");
  }
  const Node& cls = g.at(pid[1]);
  if (cls.kind != NodeKind::Global || (cls.text != "torch" && cls.text != "torch.storage")) {
    throw InputError(where + ": storage class is not a torch global");
  }
  StorageRef s;
  s.node = pid_node;
  if (cls.name == "UntypedStorage") {
    s.untyped = true;
    s.dtype = DType::UInt8;
  } else {
    const auto dtype = dtype_from_storage_class(cls.name);
    if (!dtype) throw InputError(where + ": " + unknown_storage_class(cls.name));
    s.dtype = *dtype;
  }
  s.key = str_at(g, pid[2], where, "key");
  s.location = str_at(g, pid[3], where, "location");
  const int64_t numel = int_at(g, pid[4], where, "numel");
  if (numel < 0 || static_cast<uint64_t>(numel) > kMaxElements) {
    throw InputError(where + ": storage 'data/" + s.key + "' has an impossible size " +
                     std::to_string(numel));
  }
  s.numel = static_cast<uint64_t>(numel);
  return s;
}

// What a node is, for messages: "a call of posix.system", "a list", …
std::string describe(const Graph& g, NodeId id) {
  if (id == kNoNode) return "missing";
  if (const Node* cls = g.class_of(id)) return "a call of " + cls->text + "." + cls->name;
  const std::string type = g.type_name(id);
  return (std::string("aeiou").find(type[0]) == std::string::npos ? "a " : "an ") + type;
}

// torch.save writes backward_hooks as a fresh, empty collections.OrderedDict().
bool is_empty_ordered_dict(const Graph& g, NodeId id) {
  if (id == kNoNode || !g.is_instance(id, "collections", "OrderedDict")) return false;
  const Node& n = g.at(id);
  const bool no_args = n.args == kNoNode || (g.at(n.args).kind == NodeKind::Tuple && g.at(n.args).items.empty());
  return n.construct == Construct::Reduce && no_args && n.kwargs == kNoNode && n.items.empty() &&
         n.entries.empty() && n.state == kNoNode;
}

// The tensor metadata torch may append (torch._utils.get_tensor_metadata): str -> bool.
bool is_tensor_metadata(const Graph& g, NodeId id) {
  const Node& n = g.at(id);
  if (n.kind == NodeKind::None) return true;
  if (n.kind != NodeKind::Dict) return false;
  for (const auto& [key, value] : n.entries) {
    if (g.at(key).kind != NodeKind::Str || g.at(value).kind != NodeKind::Bool) return false;
  }
  return true;
}

// A rebuild call is a plain REDUCE: anything it received afterwards (BUILD state,
// appended items) would run more code on the tensor at load time.
std::string call_extras(const Graph& g, NodeId id, const char* what) {
  const Node& n = g.at(id);
  if (n.construct != Construct::Reduce) return std::string(what) + " is built by NEWOBJ, not called";
  if (n.state != kNoNode) return std::string(what) + " receives a BUILD state";
  if (!n.items.empty() || !n.entries.empty()) return std::string(what) + " receives appended items";
  return "";
}

// Checks the arguments after size and stride (requires_grad, backward_hooks, [dtype],
// [metadata]) against what torch.save writes; fills `t`, returns the first irregularity.
std::string check_tail(const Graph& g, const std::vector<NodeId>& args, TensorRef& t) {
  const std::size_t max_args = t.rebuild_version == 3 ? 8 : 7;
  if (args.size() > max_args) {
    return "_rebuild_tensor_v" + std::to_string(t.rebuild_version) + " has " + std::to_string(args.size()) +
           " arguments, at most " + std::to_string(max_args) + " are torch's";
  }
  if (g.at(args[4]).kind != NodeKind::Bool) return "requires_grad is " + describe(g, args[4]) + ", not a bool";
  t.requires_grad = g.at(args[4]).flag;
  if (args.size() > 5 && !is_empty_ordered_dict(g, args[5])) {
    return "backward_hooks is " + describe(g, args[5]) + ", not the empty OrderedDict() torch.save writes";
  }
  const std::size_t metadata_at = t.rebuild_version == 3 ? 7 : 6;
  if (args.size() > metadata_at) {
    if (!is_tensor_metadata(g, args[metadata_at])) {
      return "the metadata argument is " + describe(g, args[metadata_at]) + ", not a dict of str -> bool";
    }
    if (g.at(args[metadata_at]).kind == NodeKind::Dict) t.metadata = args[metadata_at];
  }
  return call_extras(g, t.tensor_node, "the tensor");
}

// _rebuild_parameter(data, requires_grad, backward_hooks) or
// _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state).
std::string check_parameter(const Graph& g, const std::vector<NodeId>& args, bool with_state, TensorRef& t) {
  const std::size_t want = with_state ? 4 : 3;
  if (args.size() != want && !(args.size() == 2 && !with_state)) {
    return "the nn.Parameter call has " + std::to_string(args.size()) + " arguments, torch writes " +
           std::to_string(want);
  }
  if (g.at(args[1]).kind != NodeKind::Bool) return "the nn.Parameter's requires_grad is " + describe(g, args[1]);
  t.parameter_requires_grad = g.at(args[1]).flag;
  if (args.size() > 2 && !is_empty_ordered_dict(g, args[2])) {
    return "the nn.Parameter's backward_hooks is " + describe(g, args[2]) +
           ", not the empty OrderedDict() torch.save writes";
  }
  if (with_state) t.parameter_state = args[3];
  return call_extras(g, t.node, "the nn.Parameter");
}

}  // namespace

uint64_t StorageRef::nbytes() const { return untyped ? numel : numel * element_size(dtype); }

uint64_t TensorRef::numel() const {
  uint64_t n = 1;
  for (int64_t s : sizes) n *= static_cast<uint64_t>(s);
  return n;
}

bool TensorRef::contiguous() const {
  int64_t expected = 1;
  for (std::size_t i = sizes.size(); i-- > 0;) {
    if (sizes[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= sizes[i];
  }
  return true;
}

std::pair<uint64_t, uint64_t> TensorRef::byte_span() const {
  if (numel() == 0) return {0, 0};
  uint64_t last = storage_offset;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    last += static_cast<uint64_t>(sizes[i] - 1) * static_cast<uint64_t>(strides[i]);
  }
  const uint64_t elem = element_size(dtype);
  return {storage_offset * elem, (last + 1) * elem};
}

std::optional<TensorRef> recognize_tensor(const Graph& g, NodeId id, const std::string& where) {
  if (id == kNoNode) return std::nullopt;
  TensorRef t;
  t.node = id;
  NodeId tensor = id;
  std::vector<NodeId> parameter_args;
  if (is_rebuild_parameter(g, id)) {
    parameter_args = tuple_items(g, g.at(id).args, where, "parameter arguments");
    if (parameter_args.empty()) throw InputError(where + ": nn.Parameter without data");
    tensor = parameter_args[0];
    t.parameter = true;
  }
  int version = 0;
  if (!is_rebuild_tensor(g, tensor, &version)) {
    if (t.parameter) throw InputError(where + ": nn.Parameter data is not a tensor");
    return std::nullopt;
  }
  t.tensor_node = tensor;
  t.rebuild_version = version;
  const auto& args = tuple_items(g, g.at(tensor).args, where, "arguments");
  if (args.size() < (version == 3 ? 7u : 5u)) {
    throw InputError(where + ": _rebuild_tensor_v" + std::to_string(version) +
                     " has too few arguments");
  }
  t.storage = parse_storage(g, args[0], where);
  const int64_t offset = int_at(g, args[1], where, "storage offset");
  if (offset < 0) throw InputError(where + ": negative storage offset");
  t.storage_offset = static_cast<uint64_t>(offset);
  t.sizes = int_tuple(g, args[2], where, "size");
  t.strides = int_tuple(g, args[3], where, "stride");
  if (t.sizes.size() != t.strides.size()) {
    throw InputError(where + ": tensor size and stride have different lengths");
  }
  t.dtype = t.storage.dtype;
  if (version == 3) {
    const Node& dtype_node = g.at(args[6]);
    std::optional<DType> dtype;
    if (dtype_node.kind == NodeKind::Global && dtype_node.text == "torch") {
      dtype = dtype_from_torch_name(dtype_node.name);
    }
    if (!dtype) throw InputError(where + ": _rebuild_tensor_v3 with an unknown dtype");
    t.dtype = *dtype;
  }
  t.irregular = check_tail(g, args, t);
  if (t.irregular.empty() && t.parameter) {
    t.irregular = check_parameter(g, parameter_args, g.class_of(id)->name == "_rebuild_parameter_with_state", t);
  }
  // Bounds: every size and the reach of the view must stay far below overflow, and the
  // view must lie inside its storage.
  uint64_t numel = 1;
  uint64_t reach = t.storage_offset;
  for (std::size_t i = 0; i < t.sizes.size(); ++i) {
    const auto size = static_cast<uint64_t>(t.sizes[i]);
    const auto stride = static_cast<uint64_t>(t.strides[i]);
    if (size > kMaxElements || stride > kMaxElements) {
      throw InputError(where + ": tensor size or stride is implausibly large");
    }
    if (size != 0 && numel > kMaxElements / size) {
      throw InputError(where + ": tensor has implausibly many elements");
    }
    numel *= size;
    if (size > 0 && stride > 0 && (size - 1) > (kMaxElements - reach) / stride) {
      throw InputError(where + ": tensor view reaches implausibly far");
    }
    if (size > 0) reach += (size - 1) * stride;
  }
  if (numel > 0) {
    const uint64_t elem = element_size(t.dtype);
    const uint64_t storage_elems = t.storage.untyped ? t.storage.numel / elem : t.storage.numel;
    if (reach >= storage_elems) {
      throw InputError(where + ": tensor view (offset " + std::to_string(t.storage_offset) +
                       ", reach " + std::to_string(reach + 1) + " elements) goes past its storage 'data/" +
                       t.storage.key + "' of " + std::to_string(storage_elems) + " elements");
    }
  }
  return t;
}

}  // namespace fsdpshard
