// xp.cfg: AudioCraft's experiment config, stored either as an omegaconf DictConfig object
// graph (training checkpoints, FORMATS.md §4) or as YAML text (exported checkpoints).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "fsdpshard/object_graph.h"

namespace fsdpshard {

// Edits as the user gives them on the command line, applied in this order:
// every --merge file (deep merge), then every --set, then every --unset.
struct CfgEdits {
  std::vector<std::pair<std::string, std::string>> sets;  // dotted key, YAML value text
  std::vector<std::string> unsets;                        // dotted keys
  std::vector<std::string> merge_files;                   // YAML files
  bool empty() const { return sets.empty() && unsets.empty() && merge_files.empty(); }
};

// Parses "optim.lr=1e-5" into {"optim.lr", "1e-5"}; InputError when malformed.
std::pair<std::string, std::string> parse_set_argument(const std::string& argument);

bool is_dictconfig(const Graph& graph, NodeId id);

// The same text OmegaConf.to_yaml(cfg) gives (resolve=False: interpolations and '???'
// stay literal). InputError when the DictConfig is malformed (missing fields…).
std::string dictconfig_to_yaml(const Graph& graph, NodeId dictconfig);

// Re-emits YAML text (an exported xp.cfg) the way OmegaConf.to_yaml(OmegaConf.create(text)) does.
std::string normalize_yaml(const std::string& yaml_text);

// Applies `edits` to the DictConfig in place. Untouched nodes stay exactly as they were;
// new nodes are modelled on the DictConfig's own nodes (same metadata layout).
// InputError for --set through a non-mapping, bad merge YAML, etc.
void edit_dictconfig(Graph& graph, NodeId dictconfig, const CfgEdits& edits);

// Applies `edits` to YAML text and returns the new text in OmegaConf.to_yaml form.
std::string edit_yaml(const std::string& yaml_text, const CfgEdits& edits);

// Builds a new DictConfig in `graph` from YAML text, in omegaconf's 2.1+ pickle layout
// (loads with omegaconf 2.1-2.4), and returns its id.
NodeId dictconfig_from_yaml(Graph& graph, const std::string& yaml_text);

}  // namespace fsdpshard
