// Scalar conversions between float32, float16 and bfloat16 that give, for every input bit
// pattern, the bits torch's CPU `.to(dtype)` gives on a contiguous tensor. Written with
// integer operations only so that host and device (cast_kernels.cu) give the same bits:
// no float arithmetic that a compiler could fuse or flush.
//
// Finite values and infinities round to nearest even, subnormals included, in torch 1.13
// and 2.15 alike (the two versions the tests run). NaN is where torch's paths differ (its scalar and vectorised kernels disagree,
// and which one a tensor takes depends on the CPU, the torch version and the length), so
// these follow one path, checked bit for bit (tests/unit/comm_cast_test.cpp against
// LibTorch 1.13, tests/integration/cast_torch2_test.cpp against torch 2.x): the
// vectorised AVX2 / AVX-512 kernels that handle the bulk of any contiguous tensor in
// torch 2.x on x86-64, which the scalar tail of a tensor and non-x86 builds may not
// match. Per cast:
//   float32 -> bfloat16: NaN becomes 0xFFFF (torch's vector kernel blends in that word,
//                        sign and payload gone; torch 1.13 does the same).
//   float32 -> float16:  what F16C's vcvtps2ph does: sign kept, quiet bit set, the top
//                        10 payload bits kept. torch 1.13 instead writes sign | 0x7E00.
//   float16 -> float32:  F16C's vcvtph2ps: sign and payload kept, quiet bit set (1.13 too).
//   bfloat16 -> float32: the 16 bits shifted up, NaN payload and signalling bit as they were.
//   float16 -> bfloat16: NaN becomes 0x7FC0 (positive) in 1.13 and 2.x alike.
//   bfloat16 -> float16: through float32, so the vcvtps2ph rule (1.13: sign | 0x7E00).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define FSDPSHARD_HOST_DEVICE __host__ __device__
#else
#define FSDPSHARD_HOST_DEVICE
#endif

namespace fsdpshard::cast_math {

FSDPSHARD_HOST_DEVICE inline uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

FSDPSHARD_HOST_DEVICE inline float float_of(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

FSDPSHARD_HOST_DEVICE inline uint16_t float_to_bfloat16(float value) {
  const uint32_t bits = bits_of(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return 0xFFFFu;  // NaN, as torch's vector kernel
  // Add just under half an ulp of the result, plus one if the kept part is odd: ties go
  // to even. Infinity stays infinity; the largest finite values round up to it.
  const uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

FSDPSHARD_HOST_DEVICE inline float bfloat16_to_float(uint16_t value) {
  return float_of(static_cast<uint32_t>(value) << 16);
}

FSDPSHARD_HOST_DEVICE inline uint16_t float_to_half(float value) {
  const uint32_t bits = bits_of(value);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) {
    // NaN: quiet, with the payload's top 10 bits (vcvtps2ph).
    return static_cast<uint16_t>(sign | 0x7E00u | ((magnitude & 0x7FFFFFu) >> 13));
  }
  // 65520 (0x477FF000) is halfway between 65504, the largest half, and 65536; its tie
  // goes to the even neighbour, which is infinity.
  if (magnitude >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
  if (magnitude >= 0x38800000u) {
    // Normal half: move the exponent bias from 127 to 15, then round 23 mantissa bits to 10.
    const uint32_t rebased = magnitude - 0x38000000u;
    return static_cast<uint16_t>(sign | ((rebased + 0xFFFu + ((rebased >> 13) & 1u)) >> 13));
  }
  // Below 2^-14 the result is subnormal: count units of 2^-24. Anything up to 2^-25 (the
  // tie between 0 and the smallest subnormal) rounds to zero.
  if (magnitude <= 0x33000000u) return static_cast<uint16_t>(sign);
  const uint32_t exponent = magnitude >> 23;  // 102..112 here
  const uint32_t mantissa = (magnitude & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - exponent;     // 14..24
  uint32_t result = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (result & 1u))) ++result;  // may carry into 2^-14: fine
  return static_cast<uint16_t>(sign | result);
}

FSDPSHARD_HOST_DEVICE inline float half_to_float(uint16_t value) {
  const uint32_t sign = static_cast<uint32_t>(value & 0x8000u) << 16;
  const uint32_t exponent = (value >> 10) & 0x1Fu;
  uint32_t mantissa = value & 0x3FFu;
  if (exponent == 0x1Fu && mantissa == 0) return float_of(sign | 0x7F800000u);  // infinity
  if (exponent == 0x1Fu) return float_of(sign | 0x7FC00000u | (mantissa << 13));  // quiet NaN
  if (exponent != 0) return float_of(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return float_of(sign);
  // Subnormal half: shift the leading 1 up to the implicit position, lowering the exponent.
  uint32_t float_exponent = 113u;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --float_exponent;
  }
  return float_of(sign | (float_exponent << 23) | ((mantissa & 0x3FFu) << 13));
}

FSDPSHARD_HOST_DEVICE inline uint16_t half_to_bfloat16(uint16_t value) {
  if ((value & 0x7FFFu) > 0x7C00u) return 0x7FC0u;  // NaN: torch's scalar bfloat16 NaN
  return float_to_bfloat16(half_to_float(value));   // widening is exact: one rounding only
}

FSDPSHARD_HOST_DEVICE inline uint16_t bfloat16_to_half(uint16_t value) {
  return float_to_half(bfloat16_to_float(value));
}

}  // namespace fsdpshard::cast_math
