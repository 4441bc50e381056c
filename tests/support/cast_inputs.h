// Bit patterns the cast tests feed to fsdpshard and to torch alike: every 16-bit pattern,
// and for float32 the cases where casts go wrong (NaNs of both signs with every payload
// that survives into 16 bits, subnormals, exact rounding ties and their neighbours,
// infinities, the extremes) plus a stride through all 2^32 patterns and a large seeded
// random sample. Lengths are multiples of 64 so that torch runs its vectorised kernels
// over all of them (its scalar tail gives other NaN bits; see src/comm/cast_math.h).
#pragma once

#include <cstdint>
#include <vector>

namespace fsdpshard::test {

std::vector<uint16_t> all_16_bit_patterns();
std::vector<uint32_t> float32_cast_patterns();

}  // namespace fsdpshard::test
