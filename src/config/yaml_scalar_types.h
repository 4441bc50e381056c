// Which type a plain YAML scalar gets. Two different rule sets matter:
//  - PyYAML's Dumper resolver (YAML 1.1, with timestamps), which decides whether a string
//    can be written unquoted when OmegaConf.to_yaml dumps it;
//  - omegaconf's loader (yaml.SafeLoader + its own float resolver that also takes '1e-5',
//    minus timestamps), which decides what OmegaConf.create / from_dotlist read.
#pragma once

#include <string>

#include "config/cfg_value.h"

namespace fsdpshard::config {

// True when PyYAML's default resolver reads the plain scalar `text` back as a string
// (it is not a bool/int/float/null/timestamp/merge/value token).
bool dumper_reads_plain_as_str(const std::string& text);

// The value omegaconf's YAML loader gives an untagged plain scalar. InputError for the
// YAML 1.1 '=' value token, which omegaconf's loader cannot construct.
CfgValue omegaconf_plain_scalar(const std::string& text);

// Constructors for explicitly tagged scalars (!!int, !!float, !!bool) as PyYAML's
// SafeConstructor does them; InputError naming `text` when it does not convert.
CfgValue construct_yaml_int(const std::string& text);
CfgValue construct_yaml_float(const std::string& text);
CfgValue construct_yaml_bool(const std::string& text);

}  // namespace fsdpshard::config
