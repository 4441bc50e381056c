// The object graph a pickle describes, held symbolically: nothing in it is ever imported,
// called or executed. A GLOBAL is just a (module, name) pair; REDUCE/NEWOBJ/BUILD become
// Object nodes that remember what would have been called with what.
//
// Nodes live in one arena (Graph) and refer to each other by NodeId, so sharing and
// cycles (omegaconf's child -> parent links) cost nothing and free nothing twice. A node
// id is an object identity: two references to the same id are the same Python object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fsdpshard {

using NodeId = uint32_t;
inline constexpr NodeId kNoNode = UINT32_MAX;

enum class NodeKind : uint8_t {
  None,
  Bool,          // flag
  Int,           // int_value (fits in int64)
  BigInt,        // text: two's complement little-endian bytes, as LONG1/LONG4 carry them
  Float,         // float_value
  Str,           // text (UTF-8)
  Bytes,         // text (raw bytes); bytearray when `flag` is set
  Tuple,         // items
  List,          // items
  Dict,          // entries, in insertion order
  Set,           // items
  FrozenSet,     // items
  Global,        // module, name  (GLOBAL / STACK_GLOBAL / INST / OBJ class)
  Object,        // callable(args) [NEWOBJ: cls.__new__(cls, *args)], then BUILD state,
                 // then the APPEND(S)/SETITEM(S) it received (OrderedDict, defaultdict…)
  PersistentId,  // persistent_id (BINPERSID/PERSID): the pid argument node
};

// How an Object node came to be.
enum class Construct : uint8_t {
  Reduce,    // REDUCE: callable(*args)
  NewObj,    // NEWOBJ: cls.__new__(cls, *args)
  NewObjEx,  // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
};

struct Node {
  NodeKind kind = NodeKind::None;
  bool flag = false;            // Bool value; Bytes: is a bytearray
  int64_t int_value = 0;        // Int
  double float_value = 0.0;     // Float
  std::string text;             // Str, Bytes, BigInt; Global: module
  std::string name;             // Global: qualified name
  std::vector<NodeId> items;    // Tuple/List/Set/FrozenSet elements; Object: appended items
  std::vector<std::pair<NodeId, NodeId>> entries;  // Dict entries; Object: set items
  // Object only:
  Construct construct = Construct::Reduce;
  NodeId callable = kNoNode;    // a Global (or any node) that would be called
  NodeId args = kNoNode;        // a Tuple
  NodeId kwargs = kNoNode;      // NEWOBJ_EX only: a Dict
  NodeId state = kNoNode;       // BUILD argument, or kNoNode when never built
  // PersistentId only:
  NodeId pid = kNoNode;
};

// Beware: add() (and every builder) may move the arena, so a Node& taken before it
// dangles after it; hold NodeIds across additions, not references.
class Graph {
 public:
  NodeId add(Node node);
  const Node& at(NodeId id) const { return nodes_.at(id); }
  Node& at(NodeId id) { return nodes_.at(id); }
  std::size_t size() const { return nodes_.size(); }

  // The object the pickle returns (STOP); kNoNode for an empty graph.
  NodeId root = kNoNode;

  // Builders for new nodes (used when fsdpshard creates output structure).
  NodeId none();
  NodeId boolean(bool value);
  NodeId integer(int64_t value);
  NodeId floating(double value);
  NodeId str(std::string value);
  NodeId global(std::string module, std::string name);
  NodeId tuple(std::vector<NodeId> items);
  NodeId list(std::vector<NodeId> items);
  NodeId dict(std::vector<std::pair<NodeId, NodeId>> entries = {});
  NodeId object(NodeId callable, NodeId args, Construct construct = Construct::Reduce);
  // collections.OrderedDict() with the given entries (reduced from an empty tuple).
  NodeId ordered_dict(std::vector<std::pair<NodeId, NodeId>> entries = {});

  // Queries. "Mapping" means a Dict, or an Object holding set items (OrderedDict,
  // defaultdict, …): both keep their entries in `entries`.
  bool is_mapping(NodeId id) const;
  bool is_str(NodeId id, std::string_view value) const;
  bool is_global(NodeId id, std::string_view module, std::string_view name) const;
  // The Global an Object was made from, or nullptr (also for non-Objects).
  const Node* class_of(NodeId id) const;
  // True when `id` is an Object made from module.name (by REDUCE or NEWOBJ).
  bool is_instance(NodeId id, std::string_view module, std::string_view name) const;
  // Entry of a mapping whose key is the string `key`; kNoNode if absent or not a mapping.
  NodeId get(NodeId mapping, std::string_view key) const;
  // Follows a dotted path of string keys through nested mappings ("ema.state.model").
  // A key that itself contains dots ("xp.cfg") is tried whole before being split.
  NodeId get_path(NodeId mapping, std::string_view dotted) const;
  // Python type name for people: "dict", "collections.OrderedDict", "int", "str",
  // "omegaconf.dictconfig.DictConfig", "torch.Tensor" (for tensors), …
  std::string type_name(NodeId id) const;

 private:
  std::string numpy_scalar_type(NodeId scalar) const;
  std::vector<Node> nodes_;
};

}  // namespace fsdpshard
