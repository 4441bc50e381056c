// Dotted keys of --set/--unset ("optim.lr") split into segments, and the typed value of a
// --set (omegaconf's from_dotlist: the text after '=' is loaded as YAML).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/cfg_value.h"
#include "fsdpshard/config/cfg.h"

namespace fsdpshard::config {

// "a.b.c" -> {"a", "b", "c"}; InputError for an empty key or an empty segment.
std::vector<std::string> split_key(const std::string& dotted, const std::string& option);

// The value of `--set K=V`: V as YAML with omegaconf's typing ('' is null).
CfgValue set_value(const std::string& key, const std::string& yaml_text);

// The largest --merge file read: configs are kilobytes; more is a mistake or /dev/zero.
inline constexpr uint64_t kMaxMergeFileBytes = 16u << 20;

// The mapping in a --merge file; InputError when it cannot be read, is not a regular file,
// is larger than kMaxMergeFileBytes or is not a mapping.
CfgValue read_merge_file(const std::string& path);

}  // namespace fsdpshard::config
