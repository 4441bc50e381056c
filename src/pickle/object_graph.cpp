#include "fsdpshard/pickle/object_graph.h"

#include "fsdpshard/util/dtype.h"

namespace fsdpshard {

NodeId Graph::add(Node node) {
  nodes_.push_back(std::move(node));
  return static_cast<NodeId>(nodes_.size() - 1);
}

NodeId Graph::none() { return add(Node{}); }

NodeId Graph::boolean(bool value) {
  Node n;
  n.kind = NodeKind::Bool;
  n.flag = value;
  return add(std::move(n));
}

NodeId Graph::integer(int64_t value) {
  Node n;
  n.kind = NodeKind::Int;
  n.int_value = value;
  return add(std::move(n));
}

NodeId Graph::floating(double value) {
  Node n;
  n.kind = NodeKind::Float;
  n.float_value = value;
  return add(std::move(n));
}

NodeId Graph::str(std::string value) {
  Node n;
  n.kind = NodeKind::Str;
  n.text = std::move(value);
  return add(std::move(n));
}

NodeId Graph::global(std::string module, std::string name) {
  Node n;
  n.kind = NodeKind::Global;
  n.text = std::move(module);
  n.name = std::move(name);
  return add(std::move(n));
}

NodeId Graph::tuple(std::vector<NodeId> items) {
  Node n;
  n.kind = NodeKind::Tuple;
  n.items = std::move(items);
  return add(std::move(n));
}

NodeId Graph::list(std::vector<NodeId> items) {
  Node n;
  n.kind = NodeKind::List;
  n.items = std::move(items);
  return add(std::move(n));
}

NodeId Graph::dict(std::vector<std::pair<NodeId, NodeId>> entries) {
  Node n;
  n.kind = NodeKind::Dict;
  n.entries = std::move(entries);
  return add(std::move(n));
}

NodeId Graph::object(NodeId callable, NodeId args, Construct construct) {
  Node n;
  n.kind = NodeKind::Object;
  n.callable = callable;
  n.args = args;
  n.construct = construct;
  return add(std::move(n));
}

NodeId Graph::ordered_dict(std::vector<std::pair<NodeId, NodeId>> entries) {
  const NodeId cls = global("collections", "OrderedDict");
  const NodeId args = tuple({});
  const NodeId id = object(cls, args);
  at(id).entries = std::move(entries);
  return id;
}

bool Graph::is_mapping(NodeId id) const {
  if (id == kNoNode) return false;
  const Node& n = at(id);
  if (n.kind == NodeKind::Dict) return true;
  if (n.kind != NodeKind::Object) return false;
  // An Object is a mapping when it received SETITEM(S), or is a known empty mapping type.
  if (!n.entries.empty()) return true;
  const Node* cls = class_of(id);
  return cls && ((cls->text == "collections" &&
                  (cls->name == "OrderedDict" || cls->name == "defaultdict")) ||
                 ((cls->text == "builtins" || cls->text == "__builtin__") && cls->name == "dict"));
}

bool Graph::is_str(NodeId id, std::string_view value) const {
  if (id == kNoNode) return false;
  const Node& n = at(id);
  return n.kind == NodeKind::Str && n.text == value;
}

bool Graph::is_global(NodeId id, std::string_view module, std::string_view name) const {
  if (id == kNoNode) return false;
  const Node& n = at(id);
  return n.kind == NodeKind::Global && n.text == module && n.name == name;
}

const Node* Graph::class_of(NodeId id) const {
  if (id == kNoNode) return nullptr;
  const Node& n = at(id);
  if (n.kind != NodeKind::Object || n.callable == kNoNode) return nullptr;
  const Node& cls = at(n.callable);
  return cls.kind == NodeKind::Global ? &cls : nullptr;
}

bool Graph::is_instance(NodeId id, std::string_view module, std::string_view name) const {
  const Node* cls = class_of(id);
  return cls && cls->text == module && cls->name == name;
}

NodeId Graph::get(NodeId mapping, std::string_view key) const {
  if (!is_mapping(mapping)) return kNoNode;
  const auto& entries = at(mapping).entries;
  // Python keeps the last value of a repeated key; so do we.
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (is_str(it->first, key)) return it->second;
  }
  return kNoNode;
}

NodeId Graph::get_path(NodeId mapping, std::string_view dotted) const {
  if (dotted.empty()) return mapping;
  const NodeId whole = get(mapping, dotted);
  if (whole != kNoNode) return whole;
  // Try every split point from the left: "xp.cfg.foo" finds key "xp.cfg" then "foo".
  for (std::size_t dot = dotted.find('.'); dot != std::string_view::npos;
       dot = dotted.find('.', dot + 1)) {
    const NodeId head = get(mapping, dotted.substr(0, dot));
    if (head == kNoNode) continue;
    const NodeId found = get_path(head, dotted.substr(dot + 1));
    if (found != kNoNode) return found;
  }
  return kNoNode;
}

std::string Graph::numpy_scalar_type(NodeId id) const {
  // scalar(dtype, raw bytes) with dtype = numpy.dtype('f8', …): the type is numpy.float64.
  const Node& n = at(id);
  if (n.args != kNoNode && at(n.args).kind == NodeKind::Tuple && !at(n.args).items.empty()) {
    const NodeId dtype = at(n.args).items[0];
    const Node* dtype_cls = class_of(dtype);
    const Node& dtype_node = at(dtype);
    if (dtype_cls && dtype_cls->name == "dtype" && dtype_node.args != kNoNode &&
        at(dtype_node.args).kind == NodeKind::Tuple && !at(dtype_node.args).items.empty() &&
        at(at(dtype_node.args).items[0]).kind == NodeKind::Str) {
      const std::string& code = at(at(dtype_node.args).items[0]).text;  // "f8", "i4", "b1", "u1"
      if (code.size() == 2 && code[1] >= '1' && code[1] <= '8') {
        const int bits = (code[1] - '0') * 8;
        if (code[0] == 'f') return "numpy.float" + std::to_string(bits);
        if (code[0] == 'i') return "numpy.int" + std::to_string(bits);
        if (code[0] == 'u') return "numpy.uint" + std::to_string(bits);
        if (code == "b1") return "numpy.bool_";
      }
    }
  }
  return "numpy.generic";
}

std::string Graph::type_name(NodeId id) const {
  if (id == kNoNode) return "<missing>";
  const Node& n = at(id);
  switch (n.kind) {
    case NodeKind::None: return "NoneType";
    case NodeKind::Bool: return "bool";
    case NodeKind::Int:
    case NodeKind::BigInt: return "int";
    case NodeKind::Float: return "float";
    case NodeKind::Str: return "str";
    case NodeKind::Bytes: return n.flag ? "bytearray" : "bytes";
    case NodeKind::Tuple: return "tuple";
    case NodeKind::List: return "list";
    case NodeKind::Dict: return "dict";
    case NodeKind::Set: return "set";
    case NodeKind::FrozenSet: return "frozenset";
    case NodeKind::Global:
      // A dtype is the one global whose value people commonly store.
      if (n.text == "torch" && dtype_from_torch_name(n.name)) return "torch.dtype";
      return "global " + n.text + "." + n.name;
    case NodeKind::PersistentId: return "persistent_id";
    case NodeKind::Object: break;
  }
  const Node* cls = class_of(id);
  if (!cls) return "object";
  if (cls->text == "torch._utils" &&
      (cls->name == "_rebuild_tensor_v2" || cls->name == "_rebuild_tensor_v3" ||
       cls->name == "_rebuild_tensor")) {
    return "torch.Tensor";
  }
  if (cls->text == "torch._utils" &&
      (cls->name == "_rebuild_parameter" || cls->name == "_rebuild_parameter_with_state")) {
    return "torch.nn.Parameter";
  }
  // Reconstructors whose product has another type: bytes under protocol 2, numpy scalars.
  if (cls->text == "_codecs" && cls->name == "encode") return "bytes";
  if ((cls->text == "numpy.core.multiarray" || cls->text == "numpy._core.multiarray") && cls->name == "scalar") {
    return numpy_scalar_type(id);
  }
  if (cls->text == "__builtin__" || cls->text == "builtins") return cls->name;
  return cls->text + "." + cls->name;
}

}  // namespace fsdpshard
