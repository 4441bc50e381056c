// cast_math.h (the scalar casts the tool and its CUDA kernels run) against LibTorch 1.13's
// CPU casts, bit for bit, over every 16-bit pattern and a large float32 sample
// (tests/support/cast_inputs.h). tests/integration/cast_torch2_test.cpp does the same
// against torch 2.x; the GPU side is compared with cast_math.h by tests/mpi/nccl_check.cpp.
//
// One known disagreement between the two torch versions: a NaN cast to float16 (from
// float32 or bfloat16). torch 1.13 converts in software and writes sign | 0x7E00; torch 2.x
// uses F16C's vcvtps2ph, which keeps the top payload bits, and cast_math.h follows 2.x.
// Here those inputs must give exactly 1.13's pattern from torch and a NaN of the same sign
// from us; every other result must be the same bits.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstring>
#include <vector>

#include "comm/cast_math.h"
#include "support/cast_inputs.h"

namespace fsdpshard {
namespace {

namespace cm = cast_math;

bool is_half_nan(uint16_t bits) { return (bits & 0x7FFFu) > 0x7C00u; }

template <typename Out, typename In, typename F>
void expect_like_torch(const std::vector<In>& input, at::ScalarType from, at::ScalarType to, F ours,
                       bool float16_nan_differs = false) {
  const auto count = static_cast<int64_t>(input.size());
  at::Tensor reference = at::from_blob(const_cast<In*>(input.data()), {count}, from).to(to);
  ASSERT_TRUE(reference.is_contiguous());
  const auto* torch_bits = static_cast<const Out*>(reference.data_ptr());
  std::size_t wrong = 0, torch_1_13_nan = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const Out mine = ours(input[i]);
    bool same = std::memcmp(&mine, &torch_bits[i], sizeof(Out)) == 0;
    if constexpr (sizeof(Out) == 2) {
      if (float16_nan_differs && is_half_nan(mine)) {
        const uint16_t theirs = static_cast<uint16_t>(torch_bits[i]);
        same = theirs == ((mine & 0x8000u) | 0x7E00u);
        ++torch_1_13_nan;
      }
    }
    if (same || ++wrong > 5) continue;
    uint32_t a = 0, b = 0, x = 0;
    std::memcpy(&a, &mine, sizeof(Out));
    std::memcpy(&b, &torch_bits[i], sizeof(Out));
    std::memcpy(&x, &input[i], sizeof(In));
    ADD_FAILURE() << "input 0x" << std::hex << x << ": ours 0x" << a << ", torch 0x" << b;
  }
  EXPECT_EQ(wrong, 0u) << "of " << input.size();
  if (float16_nan_differs) EXPECT_GE(torch_1_13_nan, 254u);  // bfloat16 has 254 NaN patterns
}

std::vector<float> float_inputs() {
  std::vector<float> v;
  for (uint32_t bits : test::float32_cast_patterns()) v.push_back(cm::float_of(bits));
  return v;
}

TEST(CommCast, FloatToHalfMatchesTorch) {
  expect_like_torch<uint16_t>(float_inputs(), at::kFloat, at::kHalf, cm::float_to_half, true);
}
TEST(CommCast, FloatToBFloat16MatchesTorch) {
  expect_like_torch<uint16_t>(float_inputs(), at::kFloat, at::kBFloat16, cm::float_to_bfloat16);
}
TEST(CommCast, HalfToFloatMatchesTorch) {
  expect_like_torch<uint32_t>(test::all_16_bit_patterns(), at::kHalf, at::kFloat,
                              [](uint16_t h) { return cm::bits_of(cm::half_to_float(h)); });
}
TEST(CommCast, BFloat16ToFloatMatchesTorch) {
  expect_like_torch<uint32_t>(test::all_16_bit_patterns(), at::kBFloat16, at::kFloat,
                              [](uint16_t b) { return cm::bits_of(cm::bfloat16_to_float(b)); });
}
TEST(CommCast, HalfToBFloat16MatchesTorch) {
  expect_like_torch<uint16_t>(test::all_16_bit_patterns(), at::kHalf, at::kBFloat16, cm::half_to_bfloat16);
}
TEST(CommCast, BFloat16ToHalfMatchesTorch) {
  expect_like_torch<uint16_t>(test::all_16_bit_patterns(), at::kBFloat16, at::kHalf, cm::bfloat16_to_half,
                              true);
}

// The NaN rules of cast_math.h spelled out (the torch comparisons above are the proof).
TEST(CommCast, NaNPatternsAreTorchs) {
  EXPECT_EQ(cm::float_to_bfloat16(cm::float_of(0x7FC00000u)), 0xFFFFu);  // the 0x7fc0
  EXPECT_EQ(cm::float_to_bfloat16(cm::float_of(0xFFA12345u)), 0xFFFFu);
  EXPECT_EQ(cm::float_to_half(cm::float_of(0x7FA12345u)), 0x7F09u);      // payload kept, quiet
  EXPECT_EQ(cm::float_to_half(cm::float_of(0xFF800001u)), 0xFE00u);
  EXPECT_EQ(cm::bits_of(cm::half_to_float(0xFC01u)), 0xFFC02000u);
  EXPECT_EQ(cm::bits_of(cm::bfloat16_to_float(0x7F81u)), 0x7F810000u);  // signalling stays
  EXPECT_EQ(cm::half_to_bfloat16(0xFE01u), 0x7FC0u);
  EXPECT_EQ(cm::bfloat16_to_half(0x7F81u), 0x7E08u);
}

}  // namespace
}  // namespace fsdpshard
