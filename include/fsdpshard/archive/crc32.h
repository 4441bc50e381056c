// Zip's CRC-32 (the reflected 0xEDB88320 polynomial), fast via libdeflate, plus the
// combination rule that lets ranks CRC pieces of one record in parallel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fsdpshard {

// CRC of the bytes so far (`crc`, 0 for none) extended by [data, data+size).
uint32_t crc32_update(uint32_t crc, const void* data, std::size_t size);

// CRC of A followed by B, from crc(A), crc(B) and B's length.
uint32_t crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

}  // namespace fsdpshard
