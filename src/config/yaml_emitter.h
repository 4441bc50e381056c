// Writes a CfgValue as OmegaConf.to_yaml does: yaml.dump(container, Dumper=OmegaConfDumper,
// default_flow_style=False, allow_unicode=True, sort_keys=False). The layout rules (block
// style, indentless lists under a key, '{}'/'[]' for empty containers, quoting, folding of
// long scalars at column 80, '? ' complex keys) follow PyYAML 6's emitter step by step,
// because users diff these files and we promise byte-identical output.
#pragma once

#include <string>

#include "config/cfg_value.h"

namespace fsdpshard::config {

std::string emit_yaml(const CfgValue& root);

}  // namespace fsdpshard::config
