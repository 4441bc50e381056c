// xp.cfg: AudioCraft's experiment config, stored either as an omegaconf DictConfig object
// graph (training checkpoints, docs/FORMATS.md §4) or as YAML text (exported checkpoints).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard {

// Edits as the user gives them on the command line, applied in this order:
// every --merge file (deep merge), then every --set, then every --unset.
// Semantics (the same for DictConfig graphs and YAML text; src/config/yaml_edits.h):
//  - --merge FILE = OmegaConf.merge(cfg, OmegaConf.load(FILE)): mappings merge key by key,
//    lists and scalars replace, a '???' in the file never overrides a value, a mapping
//    over a list (or the reverse) is an InputError as in omegaconf.
//  - --set K=V = OmegaConf.merge(cfg, OmegaConf.from_dotlist(["K=V"])): V is YAML typed
//    by omegaconf's loader ('1e-5' float, '017' int 15, 'yes' bool, '' null, '[..]' list,
//    '{..}' mapping merged into an existing mapping). Missing intermediate mappings are
//    created (a null/'???' on the way becomes one); a path through any other value is an
//    InputError (omegaconf would silently replace it).
//  - --unset K: removes K; a missing K is an InputError (a typo must not pass silently).
//  - Interpolations ('${a.b}') and '???' stay literal strings. omegaconf's struct and
//    readonly flags are kept but not enforced: edits are offline, so new keys are allowed.
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
// Byte-identical to omegaconf 2.1-2.3 (pure-Python PyYAML emitter). omegaconf 2.4 dumps
// through libyaml when installed, which differs only in edge cases (empty or 123+
// character keys, characters beyond U+FFFF, NEL). An Enum value prints as its pickled
// value, since the member name is not in the pickle.
std::string dictconfig_to_yaml(const Graph& graph, NodeId dictconfig);

// Re-emits YAML text (an exported xp.cfg) the way OmegaConf.to_yaml(OmegaConf.create(text)) does.
// Parsing follows PyYAML's YAML 1.1 + omegaconf typing, except that NEL/LS/PS inside
// scalars are not line breaks (yaml-cpp reads YAML 1.2).
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
