// The public xp.cfg API (fsdpshard/config/cfg.h), wiring the pieces of src/config together.
#include "fsdpshard/config/cfg.h"

#include "config/dictconfig_edits.h"
#include "config/dictconfig_factory.h"
#include "config/dictconfig_reader.h"
#include "config/omegaconf_nodes.h"
#include "config/yaml_edits.h"
#include "config/yaml_emitter.h"
#include "config/yaml_reader.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {

bool is_dictconfig(const Graph& graph, NodeId id) {
  return id != kNoNode && config::oc_kind(graph, id) == config::OcKind::DictConfig;
}

std::string dictconfig_to_yaml(const Graph& graph, NodeId dictconfig) {
  return config::emit_yaml(config::read_container(graph, dictconfig));
}

std::string normalize_yaml(const std::string& yaml_text) {
  return config::emit_yaml(config::parse_yaml_config(yaml_text, "xp.cfg"));
}

void edit_dictconfig(Graph& graph, NodeId dictconfig, const CfgEdits& edits) {
  config::edit_graph(graph, dictconfig, edits);
}

std::string edit_yaml(const std::string& yaml_text, const CfgEdits& edits) {
  config::CfgValue root = config::parse_yaml_config(yaml_text, "xp.cfg");
  config::apply_edits(root, edits);
  return config::emit_yaml(root);
}

NodeId dictconfig_from_yaml(Graph& graph, const std::string& yaml_text) {
  const config::CfgValue root = config::parse_yaml_config(yaml_text, "xp.cfg");
  if (!root.is_map()) throw InputError("xp.cfg: the YAML text is a list, a DictConfig needs a mapping");
  config::DictConfigFactory factory(graph, kNoNode);
  return factory.make(root, kNoNode, kNoNode);
}

}  // namespace fsdpshard
