#include "config/dictconfig_reader.h"

#include "config/expansion_budget.h"
#include "config/omegaconf_nodes.h"
#include "config/python_numbers.h"
#include "config/utf8.h"
#include "config/yaml_reader.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

namespace {

CfgValue read_node(const Graph& g, NodeId id, const std::string& path, int depth, ExpansionBudget& budget);

// An Enum member pickles as REDUCE(cls, (value,)): its name is not in the file. omegaconf
// would print the name; the best we can do without importing the class is its value.
bool enum_value(const Graph& g, NodeId id, NodeId& value) {
  const Node& n = g.at(id);
  if (n.kind != NodeKind::Object || n.construct != Construct::Reduce || !g.class_of(id)) return false;
  if (n.args == kNoNode || g.at(n.args).kind != NodeKind::Tuple || g.at(n.args).items.size() != 1) return false;
  value = g.at(n.args).items[0];
  const NodeKind k = g.at(value).kind;
  return k == NodeKind::Str || k == NodeKind::Int || k == NodeKind::BigInt || k == NodeKind::Float ||
         k == NodeKind::Bool;
}

CfgValue read_content(const Graph& g, NodeId owner, bool is_dict, const std::string& path, int depth,
                      ExpansionBudget& budget) {
  if (depth > kMaxCfgDepth) throw InputError(path + ": nesting deeper than " + std::to_string(kMaxCfgDepth));
  const NodeId state = oc_state(g, owner, path);
  const long at = entry_index(g, state, "_content");
  if (at < 0) throw InputError(path + ": malformed " + g.type_name(owner) + " (no '_content')");
  const NodeId content = g.at(state).entries[at].second;
  const Node& c = g.at(content);
  // A container can itself be None, '???' (missing) or an interpolation string.
  if (c.kind == NodeKind::None) return CfgValue::null();
  if (c.kind == NodeKind::Str) return CfgValue::of_str(c.text);
  if (is_dict) {
    if (!g.is_mapping(content)) {
      throw InputError(path + ": malformed DictConfig ('_content' is a " + g.type_name(content) + ")");
    }
    CfgValue map = CfgValue::map();
    KeyPositions positions(map);
    for (const auto& [k, v] : c.entries) {
      CfgValue key = read_key(g, k, path);
      const std::string sub = child_path(path, key_text(key));
      positions.put(map, std::move(key), read_node(g, v, sub, depth + 1, budget));
    }
    return map;
  }
  if (c.kind != NodeKind::List) {
    throw InputError(path + ": malformed ListConfig ('_content' is a " + g.type_name(content) + ")");
  }
  CfgValue list = CfgValue::list();
  for (std::size_t i = 0; i < c.items.size(); ++i) {
    list.values.push_back(read_node(g, c.items[i], path + "[" + std::to_string(i) + "]", depth + 1, budget));
  }
  return list;
}

// A leaf's value, its text charged to the budget.
CfgValue charged_leaf(const Graph& g, NodeId id, const std::string& path, ExpansionBudget& budget) {
  CfgValue v = read_plain_value(g, id, path);
  budget.charge_text(v.text.size());
  return v;
}

CfgValue read_node(const Graph& g, NodeId id, const std::string& path, int depth, ExpansionBudget& budget) {
  if (depth > kMaxCfgDepth) throw InputError(path + ": nesting deeper than " + std::to_string(kMaxCfgDepth));
  // The pickle memo lets one node be referenced any number of times, as YAML aliases do:
  // every visit is charged, so a shared-node bomb stops within the budget.
  budget.charge(0);
  switch (oc_kind(g, id)) {
    case OcKind::DictConfig: return read_content(g, id, true, path, depth, budget);
    case OcKind::ListConfig: return read_content(g, id, false, path, depth, budget);
    case OcKind::Leaf: {
      const NodeId state = oc_state(g, id, path);
      const long val = entry_index(g, state, "_val");
      if (val >= 0) return charged_leaf(g, g.at(state).entries[val].second, path, budget);
      // UnionNode (omegaconf 2.3+) wraps its value node in '_content'.
      const long content = entry_index(g, state, "_content");
      if (content >= 0) return read_node(g, g.at(state).entries[content].second, path, depth + 1, budget);
      throw InputError(path + ": malformed " + g.type_name(id) + " (no '_val')");
    }
    case OcKind::NotOmegaconf: return charged_leaf(g, id, path, budget);
  }
  return CfgValue::null();
}

}  // namespace

CfgValue read_plain_value(const Graph& g, NodeId id, const std::string& path) {
  const Node& n = g.at(id);
  switch (n.kind) {
    case NodeKind::None: return CfgValue::null();
    case NodeKind::Bool: return CfgValue::of_bool(n.flag);
    case NodeKind::Int: return CfgValue::of_int(std::to_string(n.int_value));
    case NodeKind::BigInt: return CfgValue::of_int(twos_complement_to_decimal(n.text));
    case NodeKind::Float: return CfgValue::of_float(n.float_value);
    case NodeKind::Str: return CfgValue::of_str(n.text);
    case NodeKind::Bytes:
      if (!n.flag) return CfgValue::of_bytes(n.text);
      break;
    default: {
      NodeId value = kNoNode;
      if (enum_value(g, id, value)) return read_plain_value(g, value, path);
      // pickle protocol 2 writes bytes as _codecs.encode(latin-1 text, 'latin1'), and
      // b'' as bytes().
      const Node* cls = g.class_of(id);
      if (cls && (cls->text == "__builtin__" || cls->text == "builtins") && cls->name == "bytes" &&
          n.args != kNoNode && g.at(n.args).kind == NodeKind::Tuple && g.at(n.args).items.empty()) {
        return CfgValue::of_bytes("");
      }
      if (cls && cls->text == "_codecs" && cls->name == "encode" && n.args != kNoNode) {
        const Node& args = g.at(n.args);
        if (args.kind == NodeKind::Tuple && args.items.size() == 2 &&
            g.at(args.items[0]).kind == NodeKind::Str && g.is_str(args.items[1], "latin1")) {
          std::string bytes;
          for (char32_t cp : utf8_decode(g.at(args.items[0]).text)) bytes.push_back(static_cast<char>(cp));
          return CfgValue::of_bytes(bytes);
        }
      }
      break;
    }
  }
  throw InputError(path + ": unsupported value of type " + g.type_name(id));
}

CfgValue read_key(const Graph& g, NodeId key, const std::string& path) {
  CfgValue v = read_plain_value(g, key, path);
  if (!v.is_scalar() || v.kind == CfgValue::Kind::Null) {
    throw InputError(path + ": unsupported key of type " + g.type_name(key));
  }
  return v;
}

CfgValue read_container(const Graph& g, NodeId container) {
  const OcKind k = oc_kind(g, container);
  if (k != OcKind::DictConfig && k != OcKind::ListConfig) {
    throw InputError("xp.cfg: expected an omegaconf DictConfig, found " + g.type_name(container));
  }
  ExpansionBudget budget("xp.cfg");
  return read_node(g, container, "xp.cfg", 0, budget);
}

}  // namespace fsdpshard::config
