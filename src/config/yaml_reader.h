// YAML text -> CfgValue with the types omegaconf's loader gives (not yaml-cpp's): plain
// scalars are typed by yaml_scalar_types, quoted ones are strings, '<<' merge keys are
// expanded, aliases are copied, and duplicate string keys are an error as in omegaconf.
#pragma once

#include <string>

#include "config/cfg_value.h"

namespace fsdpshard::config {

// Nesting deeper than this is an InputError (guards the recursive walks).
inline constexpr int kMaxCfgDepth = 512;

// The value of a one-document YAML text (Null for an empty text). `what` prefixes errors.
CfgValue parse_yaml_value(const std::string& text, const std::string& what);

// What OmegaConf.create(text) accepts: a mapping (an empty text is an empty mapping) or a
// list. InputError for a bare scalar.
CfgValue parse_yaml_config(const std::string& text, const std::string& what);

}  // namespace fsdpshard::config
