#include "support/cast_inputs.h"

#include <random>

namespace fsdpshard::test {

std::vector<uint16_t> all_16_bit_patterns() {
  std::vector<uint16_t> v(65536);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint16_t>(i);
  return v;
}

std::vector<uint32_t> float32_cast_patterns() {
  std::vector<uint32_t> v = {
      0x00000000u, 0x7F800000u, 0x7F7FFFFFu, 0x00800000u, 0x00000001u, 0x007FFFFFu,
      0x477FE000u,  // 65504, the largest half
      0x477FEFFFu, 0x477FF000u, 0x477FF001u,  // around 65520, the tie with infinity
      0x38800000u, 0x387FFFFFu, 0x387FE000u,  // the smallest normal half and below it
      0x33000000u, 0x33000001u, 0x33800000u, 0x33C00000u,  // half subnormal ties near 2^-24
      0x7FC00000u, 0x7F800001u, 0x7FFFFFFFu, 0x7FA12345u};
  std::mt19937 random(20261203);
  const auto random_bits = [&random](uint32_t mask) { return static_cast<uint32_t>(random()) & mask; };
  for (uint32_t k = 0; k < 65536; ++k) {
    // NaNs: the 16 payload bits bfloat16 keeps (and the quiet bit among them), with random
    // low bits; then the 10 that float16 keeps, with random bits below them.
    v.push_back(0x7F800000u | (((k << 7) | random_bits(0x7Fu)) & 0x7FFFFFu) | (k == 0 ? 1u : 0u));
    v.push_back(0x7F800000u | ((k & 0x3FFu) << 13) | random_bits(0x1FFFu) | 1u);
    // bfloat16 rounding: the tie below each pattern's successor and both neighbours.
    v.push_back((k << 16) | 0x8000u);
    v.push_back((k << 16) | 0x7FFFu);
    v.push_back((k << 16) | 0x8001u);
    // float16 rounding ties over its normal and subnormal exponents (102..143).
    const uint32_t exponent = 102u + (k % 42u);
    const uint32_t upper = (exponent << 23) | ((k / 42u) << 13 & 0x7FE000u);
    v.push_back(upper | 0x1000u);
    v.push_back(upper | 0x0FFFu);
    v.push_back(upper | 0x1001u);
    // float32 subnormals.
    v.push_back(random_bits(0x7FFFFFu));
  }
  for (uint64_t bits = 0; bits < (1ull << 32); bits += 4093) v.push_back(static_cast<uint32_t>(bits));
  for (int i = 0; i < 1000000; ++i) v.push_back(static_cast<uint32_t>(random()));
  // Everything once more with the sign bit set.
  const std::size_t positive = v.size();
  for (std::size_t i = 0; i < positive; ++i) v.push_back(v[i] | 0x80000000u);
  while (v.size() % 64 != 0) v.push_back(0x3F800000u);  // 1.0
  return v;
}

}  // namespace fsdpshard::test
