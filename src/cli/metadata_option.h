// reshard --metadata KEY=VALUE: user strings for the shard index's "metadata".
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fsdpshard::cli {

// Splits each "KEY=VALUE" at its first '='. InputError for a missing '=' or empty key,
// and for "total_size" and "format", which the index and the safetensors header own.
std::vector<std::pair<std::string, std::string>> parse_shard_metadata(const std::vector<std::string>& given);

}  // namespace fsdpshard::cli
