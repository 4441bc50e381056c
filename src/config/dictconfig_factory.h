// Builds new omegaconf nodes in a graph (DictConfig, ListConfig, AnyNode) in the pickle
// layout omegaconf 2.1-2.4 reads. When editing an existing config, new nodes copy the
// layout of the config's own nodes (same Metadata classes, same fields, same Global
// nodes), so the file keeps looking as the omegaconf version that wrote it made it.
#pragma once

#include <string>
#include <vector>

#include "config/cfg_value.h"
#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard::config {

class DictConfigFactory {
 public:
  // Layout copied from the config under `root` (kNoNode: omegaconf 2.2's own layout).
  DictConfigFactory(Graph& g, NodeId root);

  // A node for `value` (DictConfig / ListConfig / AnyNode) whose '_parent' is `parent`
  // (kNoNode: None) and whose metadata 'key' is `key` (kNoNode: None).
  NodeId make(const CfgValue& value, NodeId parent, NodeId key);

  // A Python object node for a scalar (None, bool, int, float, str, bytes).
  NodeId scalar(const CfgValue& value);

 private:
  struct Layout {
    NodeId node_class = kNoNode;      // Global of the node class
    NodeId metadata = kNoNode;        // template metadata Object (kNoNode: defaults)
    std::vector<std::string> fields;  // node state field names, in order
  };

  NodeId global(const char* module, const char* name);
  NodeId metadata(const Layout& layout, bool container, bool is_list, NodeId key);
  NodeId new_resolver_cache(NodeId template_cache);
  NodeId node(const Layout& layout, NodeId meta, NodeId parent, const char* value_field, NodeId value);
  void find_templates(NodeId id, int depth);

  Graph& g_;
  Layout leaf_;
  Layout container_;
  Layout list_;
};

}  // namespace fsdpshard::config
