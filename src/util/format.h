// Small formatting helpers for messages people read.
#pragma once

#include <cstdint>
#include <string>

namespace fsdpshard {

// "1.5 GiB", "312 KiB", "17 B".
std::string human_bytes(uint64_t bytes);
// "12.3 s", "850 ms".
std::string human_seconds(double seconds);

}  // namespace fsdpshard
