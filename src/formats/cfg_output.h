// xp.cfg of an output: the input's, edited, in the representation the output needs.
#pragma once

#include <optional>
#include <string>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/commands/commands.h"

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

// Rethrows the InputError in flight with "<file>: " in front unless it already names the
// file: the xp.cfg readers name only the config path ("xp.cfg.model: …"), and an error
// line must name the file. Call from a catch (const InputError&) block.
[[noreturn]] void rethrow_naming_file(const std::string& file);

// Checkpoint::cfg_yaml(), with errors naming the file.
std::optional<std::string> cfg_yaml_of(const Checkpoint& ckpt);

// A unified-style line diff of two YAML texts ("" when equal), for --dry-run.
std::string yaml_diff(const std::string& before, const std::string& after);

}  // namespace fsdpshard
