// Byte sizes as people write them: "500MB", "2GB" (decimal, as Hugging Face's
// max_shard_size), "1.5GiB", "256MiB" (binary), "4096" (bytes).
#pragma once

#include <cstdint>
#include <string>

namespace fsdpshard {

// InputError naming `option` when `text` is not a size.
uint64_t parse_size(const std::string& text, const std::string& option);

}  // namespace fsdpshard
