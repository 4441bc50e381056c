#include "config/omegaconf_nodes.h"

#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

OcKind oc_kind(const Graph& g, NodeId id) {
  const Node* cls = g.class_of(id);
  if (!cls) return OcKind::NotOmegaconf;
  if (cls->text == "omegaconf.dictconfig" && cls->name == "DictConfig") return OcKind::DictConfig;
  if (cls->text == "omegaconf.listconfig" && cls->name == "ListConfig") return OcKind::ListConfig;
  if (cls->text == "omegaconf.nodes") return OcKind::Leaf;
  return OcKind::NotOmegaconf;
}

std::string leaf_class(const Graph& g, NodeId id) {
  if (oc_kind(g, id) != OcKind::Leaf) return "";
  return g.class_of(id)->name;
}

NodeId oc_state(const Graph& g, NodeId id, const std::string& path) {
  const NodeId state = g.at(id).state;
  if (state == kNoNode || !g.is_mapping(state)) {
    throw InputError(path + ": malformed " + g.type_name(id) + " (no state dict)");
  }
  return state;
}

long entry_index(const Graph& g, NodeId mapping, std::string_view field) {
  const auto& entries = g.at(mapping).entries;
  for (std::size_t i = entries.size(); i-- > 0;) {
    if (g.is_str(entries[i].first, field)) return static_cast<long>(i);
  }
  return -1;
}

void set_entry(Graph& g, NodeId mapping, std::string_view field, NodeId value) {
  const long at = entry_index(g, mapping, field);
  if (at >= 0) {
    g.at(mapping).entries[at].second = value;
    return;
  }
  const NodeId key = g.str(std::string(field));
  g.at(mapping).entries.emplace_back(key, value);
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent + "." + key;
}

}  // namespace fsdpshard::config
