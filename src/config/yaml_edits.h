// CfgEdits applied to a plain CfgValue tree (the exported-checkpoint path, where xp.cfg
// is YAML text). Semantics shared with the DictConfig path (dictconfig_edits):
//  - --merge FILE: OmegaConf.merge(cfg, OmegaConf.load(FILE)): mappings merge key by key,
//    recursively; lists and scalars replace; a '???' in the file keeps the existing
//    value; a mapping over a list (or a list over a mapping) is an error, as in omegaconf.
//  - --set K=V: OmegaConf.merge(cfg, OmegaConf.from_dotlist(["K=V"])), i.e. V (YAML) is
//    merged at K by the same rules. Missing intermediate mappings are created (and a null
//    or '???' on the way becomes one), but a path through any other value is an error
//    (omegaconf would silently replace e.g. a float by a mapping; that is never meant).
//  - --unset K: removes K; a missing K is an error (a typo should not pass silently).
#pragma once

#include "config/cfg_value.h"
#include "fsdpshard/config/cfg.h"

namespace fsdpshard::config {

void merge_values(CfgValue& target, const CfgValue& source);
void apply_edits(CfgValue& root, const CfgEdits& edits);

}  // namespace fsdpshard::config
