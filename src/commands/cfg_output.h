// xp.cfg of an output: the input's, edited, in the representation the output needs.
#pragma once

#include <string>

#include "fsdpshard/checkpoint.h"
#include "fsdpshard/commands.h"

namespace fsdpshard {

struct PreparedCfg {
  NodeId node = kNoNode;    // a DictConfig or a Str node in the checkpoint's graph; kNoNode: no xp.cfg
  std::string yaml_before;  // OmegaConf.to_yaml text of the input's xp.cfg ("" when none)
  std::string yaml_after;   // … after the edits
};

// Edits the checkpoint's xp.cfg (in its graph) and returns it as `format` asks: Keep its
// representation, DictConfig (built from YAML text when the input holds text), or Yaml
// (a Str node). InputError when there are edits or a format but no xp.cfg.
PreparedCfg prepare_cfg(Checkpoint& ckpt, const CfgEdits& edits, CfgFormat format);

// A unified-style line diff of two YAML texts ("" when equal), for --dry-run.
std::string yaml_diff(const std::string& before, const std::string& after);

}  // namespace fsdpshard
