// omegaconf's validation of a value assigned to a typed leaf node (StringNode, IntegerNode,
// FloatNode, BooleanNode; AnyNode takes anything), so that an edited checkpoint never holds
// a value omegaconf itself would have refused.
#pragma once

#include <string>

#include "config/cfg_value.h"

namespace fsdpshard::config {

// The value a node of class `leaf_class` stores when assigned `value`, converted as
// omegaconf converts it ('3' -> 3 for IntegerNode, 1 -> 1.0 for FloatNode, 'yes' -> True
// for BooleanNode, 5 -> '5' for StringNode). '???', interpolations and None (when
// `optional`) pass unchanged. InputError mentioning the node type otherwise.
CfgValue convert_for_leaf(const std::string& leaf_class, const CfgValue& value, bool optional,
                          const std::string& path);

}  // namespace fsdpshard::config
