// cast_math.h (the scalar casts the CUDA kernels run) against torch's CPU casts, over every
// 16-bit pattern and a stride through all float32 patterns. The GPU side is compared with
// cast_math.h by tests/mpi/nccl_check.cpp on a machine with a GPU.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "comm/cast_math.h"

namespace fsdpshard {
namespace {

namespace cm = cast_math;

std::vector<float> float_inputs() {
  std::vector<float> v = {0.0f, -0.0f, 65504.0f, 65519.996f, 65520.0f, -65520.0f, 65536.0f,
                          INFINITY, -INFINITY, 3.4028235e38f, 1.1754944e-38f, 1e-45f,
                          5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, 8.940697e-8f,
                          6.1035156e-5f, 6.1035153e-5f, 6.097555e-5f};
  for (std::uint64_t bits = 0; bits < (1ull << 32); bits += 4093) {
    v.push_back(cm::float_of(static_cast<uint32_t>(bits)));
  }
  // Exact ties of both 16-bit formats around 1.0 and in the subnormal range.
  for (uint32_t low : {0x1000u, 0x3000u, 0x8000u, 0x18000u}) {
    v.push_back(cm::float_of(0x3F800000u | low));
    v.push_back(cm::float_of(0x33800000u | low));
  }
  return v;
}

// Compares our bits with torch's; where torch gives NaN we only require NaN.
template <typename Out, typename In, typename F>
void expect_like_torch(const std::vector<In>& input, at::ScalarType from, at::ScalarType to, F ours) {
  const auto count = static_cast<int64_t>(input.size());
  at::Tensor reference = at::from_blob(const_cast<In*>(input.data()), {count}, from).to(to).contiguous();
  std::vector<Out> mine(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) mine[i] = ours(input[i]);
  at::Tensor reference_nan = reference.isnan().contiguous();
  at::Tensor mine_nan = at::from_blob(mine.data(), {count}, to).isnan().contiguous();
  const bool* torch_is_nan = reference_nan.data_ptr<bool>();
  const bool* mine_is_nan = mine_nan.data_ptr<bool>();
  const auto* torch_bits = static_cast<const Out*>(reference.data_ptr());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const bool same = torch_is_nan[i] ? mine_is_nan[i]
                                      : std::memcmp(&mine[i], &torch_bits[i], sizeof(Out)) == 0;
    if (same || ++wrong > 5) continue;
    uint32_t a = 0, b = 0, x = 0;
    std::memcpy(&a, &mine[i], sizeof(Out));
    std::memcpy(&b, &torch_bits[i], sizeof(Out));
    std::memcpy(&x, &input[i], sizeof(In));
    ADD_FAILURE() << "input 0x" << std::hex << x << ": ours 0x" << a << ", torch 0x" << b;
  }
  EXPECT_EQ(wrong, 0u) << "of " << input.size();
}

std::vector<uint16_t> all_16_bit() {
  std::vector<uint16_t> v(65536);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint16_t>(i);
  return v;
}

TEST(CommCast, FloatToHalfMatchesTorch) {
  expect_like_torch<uint16_t>(float_inputs(), at::kFloat, at::kHalf, cm::float_to_half);
}
TEST(CommCast, FloatToBFloat16MatchesTorch) {
  expect_like_torch<uint16_t>(float_inputs(), at::kFloat, at::kBFloat16, cm::float_to_bfloat16);
}
TEST(CommCast, HalfToFloatMatchesTorch) {
  expect_like_torch<float>(all_16_bit(), at::kHalf, at::kFloat, cm::half_to_float);
}
TEST(CommCast, BFloat16ToFloatMatchesTorch) {
  expect_like_torch<float>(all_16_bit(), at::kBFloat16, at::kFloat, cm::bfloat16_to_float);
}
TEST(CommCast, HalfToBFloat16MatchesTorch) {
  expect_like_torch<uint16_t>(all_16_bit(), at::kHalf, at::kBFloat16, cm::half_to_bfloat16);
}
TEST(CommCast, BFloat16ToHalfMatchesTorch) {
  expect_like_torch<uint16_t>(all_16_bit(), at::kBFloat16, at::kHalf, cm::bfloat16_to_half);
}

TEST(CommCast, NaNStaysNaNWithItsSign) {
  const float negative_nan = cm::float_of(0xFFC00001u);
  EXPECT_EQ(cm::float_to_half(negative_nan) & 0xFC00u, 0xFC00u);
  EXPECT_NE(cm::float_to_half(negative_nan) & 0x03FFu, 0u);
  EXPECT_EQ(cm::float_to_bfloat16(cm::float_of(0x7F800001u)) & 0x7FC0u, 0x7FC0u);  // quiet
  EXPECT_TRUE(std::isnan(cm::half_to_float(0x7E01)));
}

}  // namespace
}  // namespace fsdpshard
