#include "config/dictconfig_factory.h"

#include "config/omegaconf_nodes.h"
#include "config/python_numbers.h"
#include "config/yaml_reader.h"

namespace fsdpshard::config {

DictConfigFactory::DictConfigFactory(Graph& g, NodeId root) : g_(g) {
  if (root != kNoNode) find_templates(root, 0);
  const std::vector<std::string> leaf_fields = {"_metadata", "_parent", "_val"};
  const std::vector<std::string> container_fields = {"_metadata", "_parent", "_content"};
  if (leaf_.node_class == kNoNode) {
    leaf_.node_class = global("omegaconf.nodes", "AnyNode");
    leaf_.fields = leaf_fields;
  }
  if (container_.node_class == kNoNode) {
    container_.node_class = global("omegaconf.dictconfig", "DictConfig");
    container_.fields = container_fields;
  }
  if (list_.node_class == kNoNode) {
    list_.node_class = global("omegaconf.listconfig", "ListConfig");
    // A list's metadata is laid out like a dict's.
    list_.metadata = container_.metadata;
    list_.fields = container_.fields;
  }
}

// The first AnyNode, DictConfig and ListConfig met in the config become templates.
void DictConfigFactory::find_templates(NodeId id, int depth) {
  if (depth > kMaxCfgDepth || (leaf_.metadata != kNoNode && container_.metadata != kNoNode &&
                               list_.metadata != kNoNode)) {
    return;
  }
  const OcKind kind = oc_kind(g_, id);
  if (kind == OcKind::NotOmegaconf) return;
  const NodeId state = g_.at(id).state;
  if (state == kNoNode || !g_.is_mapping(state)) return;
  const long meta_at = entry_index(g_, state, "_metadata");
  if (meta_at < 0) return;
  const NodeId meta = g_.at(state).entries[meta_at].second;
  if (g_.at(meta).kind != NodeKind::Object || g_.at(meta).state == kNoNode ||
      !g_.is_mapping(g_.at(meta).state)) {
    return;
  }
  Layout layout;
  layout.node_class = g_.at(id).callable;
  layout.metadata = meta;
  for (const auto& entry : g_.at(state).entries) {
    if (g_.at(entry.first).kind == NodeKind::Str) layout.fields.push_back(g_.at(entry.first).text);
  }
  if (kind == OcKind::Leaf) {
    if (leaf_.metadata == kNoNode && leaf_class(g_, id) == "AnyNode") leaf_ = layout;
    return;
  }
  if (kind == OcKind::DictConfig && container_.metadata == kNoNode) container_ = layout;
  if (kind == OcKind::ListConfig && list_.metadata == kNoNode) list_ = layout;
  const long content_at = entry_index(g_, state, "_content");
  if (content_at < 0) return;
  const Node& content = g_.at(g_.at(state).entries[content_at].second);
  if (content.kind == NodeKind::List) {
    for (NodeId item : content.items) find_templates(item, depth + 1);
  } else {
    for (const auto& entry : content.entries) find_templates(entry.second, depth + 1);
  }
}

NodeId DictConfigFactory::global(const char* module, const char* name) {
  // Reuse a Global the graph already has (they are looked up through the memo anyway).
  for (NodeId cls : {leaf_.node_class, container_.node_class, list_.node_class}) {
    if (cls != kNoNode && g_.is_global(cls, module, name)) return cls;
  }
  for (NodeId meta : {leaf_.metadata, container_.metadata, list_.metadata}) {
    if (meta == kNoNode) continue;
    const NodeId st = g_.at(meta).state;
    for (const auto& entry : g_.at(st).entries) {
      if (g_.is_global(entry.second, module, name)) return entry.second;
    }
  }
  // Python 3 writes builtins under their Python 2 module name in protocol 2.
  return g_.global(module, name);
}

NodeId DictConfigFactory::new_resolver_cache(NodeId template_cache) {
  // A fresh defaultdict(dict): same constructor as the template, no entries.
  if (template_cache != kNoNode && g_.at(template_cache).kind == NodeKind::Object) {
    const Node& t = g_.at(template_cache);
    return g_.object(t.callable, t.args, t.construct);
  }
  const NodeId cls = global("collections", "defaultdict");
  return g_.object(cls, g_.tuple({global("__builtin__", "dict")}));
}

NodeId DictConfigFactory::metadata(const Layout& layout, bool container, bool is_list, NodeId key) {
  const NodeId any = global("typing", "Any");
  std::vector<std::pair<std::string, NodeId>> fields;
  NodeId meta_class = kNoNode;
  NodeId args = kNoNode;
  Construct construct = Construct::NewObj;
  NodeId template_cache = kNoNode;
  std::vector<std::pair<std::string, NodeId>> template_fields;
  if (layout.metadata != kNoNode) {
    const Node& t = g_.at(layout.metadata);
    meta_class = t.callable;
    args = t.args;
    construct = t.construct;
    for (const auto& entry : g_.at(t.state).entries) {
      if (g_.at(entry.first).kind != NodeKind::Str) continue;
      template_fields.emplace_back(g_.at(entry.first).text, entry.second);
      if (g_.at(entry.first).text == "resolver_cache") template_cache = entry.second;
    }
  } else {
    meta_class = container ? global("omegaconf.base", "ContainerMetadata")
                           : global("omegaconf.base", "Metadata");
    args = g_.tuple({});
    for (const char* f : {"ref_type", "object_type", "optional", "key", "flags", "flags_root",
                          "resolver_cache"}) {
      template_fields.emplace_back(f, kNoNode);
    }
    if (container) {
      template_fields.emplace_back("key_type", kNoNode);
      template_fields.emplace_back("element_type", kNoNode);
    }
  }
  const NodeId state = g_.dict();
  for (const auto& [name, template_value] : template_fields) {
    NodeId v = template_value;
    if (name == "ref_type" || name == "element_type") v = any;
    else if (name == "object_type") v = container ? global("__builtin__", is_list ? "list" : "dict") : g_.none();
    else if (name == "optional") v = g_.boolean(true);
    else if (name == "key") v = key == kNoNode ? g_.none() : key;
    else if (name == "flags") v = g_.dict();
    else if (name == "flags_root") v = g_.boolean(false);
    else if (name == "resolver_cache") v = new_resolver_cache(template_cache);
    else if (name == "key_type") v = is_list ? global("__builtin__", "long") : any;
    else if (v == kNoNode) v = g_.none();
    const NodeId field = g_.str(name);  // before g_.at(): adding a node may move the arena
    g_.at(state).entries.emplace_back(field, v);
  }
  const NodeId meta = g_.object(meta_class, args, construct);
  g_.at(meta).state = state;
  return meta;
}

NodeId DictConfigFactory::node(const Layout& layout, NodeId meta, NodeId parent,
                               const char* value_field, NodeId value) {
  const NodeId id = g_.object(layout.node_class, g_.tuple({}), Construct::NewObj);
  const NodeId state = g_.dict();
  for (const std::string& f : layout.fields) {
    NodeId v;
    if (f == "_metadata") v = meta;
    else if (f == "_parent") v = parent == kNoNode ? g_.none() : parent;
    else if (f == value_field) v = value;
    else v = g_.none();  // '_flags_cache' and anything newer: rebuilt by omegaconf
    const NodeId field = g_.str(f);  // before g_.at(): adding a node may move the arena
    g_.at(state).entries.emplace_back(field, v);
  }
  if (entry_index(g_, state, value_field) < 0) set_entry(g_, state, value_field, value);
  g_.at(id).state = state;
  return id;
}

NodeId DictConfigFactory::scalar(const CfgValue& v) {
  switch (v.kind) {
    case CfgValue::Kind::Null: return g_.none();
    case CfgValue::Kind::Bool: return g_.boolean(v.boolean);
    case CfgValue::Kind::Float: return g_.floating(v.number);
    case CfgValue::Kind::Str: return g_.str(v.text);
    case CfgValue::Kind::Int: {
      if (auto small = decimal_to_int64(v.text)) return g_.integer(*small);
      Node big;
      big.kind = NodeKind::BigInt;
      big.text = decimal_to_twos_complement(v.text);
      return g_.add(std::move(big));
    }
    case CfgValue::Kind::Bytes: {
      Node bytes;
      bytes.kind = NodeKind::Bytes;
      bytes.text = v.text;
      return g_.add(std::move(bytes));
    }
    default: return g_.none();
  }
}

NodeId DictConfigFactory::make(const CfgValue& value, NodeId parent, NodeId key) {
  if (value.is_scalar()) {
    return node(leaf_, metadata(leaf_, false, false, key), parent, "_val", scalar(value));
  }
  const bool is_list = value.is_list();
  const Layout& layout = is_list ? list_ : container_;
  const NodeId content = is_list ? g_.list({}) : g_.dict();
  const NodeId id = node(layout, metadata(layout, true, is_list, key), parent, "_content", content);
  // Children point back at this container (the cycle omegaconf pickles).
  if (is_list) {
    for (std::size_t i = 0; i < value.values.size(); ++i) {
      const NodeId child = make(value.values[i], id, g_.integer(static_cast<int64_t>(i)));
      g_.at(content).items.push_back(child);
    }
  } else {
    for (std::size_t i = 0; i < value.keys.size(); ++i) {
      const NodeId k = scalar(value.keys[i]);
      const NodeId child = make(value.values[i], id, k);
      g_.at(content).entries.emplace_back(k, child);
    }
  }
  return id;
}

}  // namespace fsdpshard::config
