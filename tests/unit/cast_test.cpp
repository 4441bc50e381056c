// cast_elements against LibTorch's own CPU conversion (tensor.to(dtype)), bit for bit.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "fsdpshard/plan/cast.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

c10::ScalarType scalar(DType d) {
  switch (d) {
    case DType::Float64: return c10::kDouble;
    case DType::Float32: return c10::kFloat;
    case DType::Float16: return c10::kHalf;
    case DType::BFloat16: return c10::kBFloat16;
    case DType::Int64: return c10::kLong;
    case DType::Int32: return c10::kInt;
    case DType::UInt8: return c10::kByte;
    case DType::Bool: return c10::kBool;
    case DType::Complex64: return c10::kComplexFloat;
    case DType::Complex128: return c10::kComplexDouble;
    default: break;
  }
  throw std::logic_error("no scalar type");
}

// Source values: random normals at several scales plus the edges (zeros, infinities,
// NaN, the largest/smallest halves and their ties, subnormals).
at::Tensor sources(DType from) {
  std::vector<double> v = {0.0, -0.0, 1.0, -1.0, 65504.0, 65520.0, -65520.0, 65536.0, 1e-8, 5.960464477539063e-08,
                           2.98023223876953125e-08, 1e38, 3.5e38, 1e-40, INFINITY, -INFINITY, NAN, 1.00390625,
                           1.0009765625, 0.1, 1.0 / 3.0};
  std::mt19937 rng(7);
  for (double scale : {1e-6, 1e-3, 1.0, 1e3, 1e5}) {
    std::normal_distribution<double> normal(0.0, scale);
    for (int i = 0; i < 2000; ++i) v.push_back(normal(rng));
  }
  at::Tensor t = at::tensor(v, at::kDouble);
  if (from == DType::Int64 || from == DType::Int32 || from == DType::UInt8 || from == DType::Bool) {
    t = at::nan_to_num(t, 0.0, 1e6, -1e6).clamp(-1e6, 1e6).round();
    if (from == DType::UInt8) t = t.remainder(256);
  }
  return t.to(scalar(from));
}

bool same_bits_or_both_nan(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor nan_a = a.isnan(), nan_b = b.isnan();
  if (!at::equal(nan_a, nan_b)) return false;
  const at::Tensor keep = nan_a.logical_not();
  const at::Tensor ma = a.masked_select(keep).contiguous(), mb = b.masked_select(keep).contiguous();
  return std::memcmp(ma.data_ptr(), mb.data_ptr(), ma.numel() * ma.element_size()) == 0;
}

TEST(Cast, MatchesLibTorchBitForBit) {
  const DType floats[] = {DType::Float64, DType::Float32, DType::Float16, DType::BFloat16};
  const DType others[] = {DType::Int64, DType::Int32, DType::UInt8, DType::Bool};
  std::vector<std::pair<DType, DType>> pairs;
  for (DType from : floats) {
    for (DType to : floats) pairs.emplace_back(from, to);
  }
  for (DType from : others) pairs.emplace_back(from, DType::Float64);
  pairs.emplace_back(DType::Complex64, DType::Complex128);
  pairs.emplace_back(DType::Complex128, DType::Complex64);
  for (const auto& [from, to] : pairs) {
    SCOPED_TRACE(std::string(torch_name(from)) + " -> " + std::string(torch_name(to)));
    at::Tensor in = sources(from == DType::Complex64 || from == DType::Complex128 ? DType::Float64 : from);
    if (from == DType::Complex64 || from == DType::Complex128) in = at::complex(in, in.flip(0)).to(scalar(from));
    const at::Tensor expected = in.to(scalar(to));
    at::Tensor got = at::empty_like(expected);
    cast_elements(in.data_ptr(), from, got.data_ptr(), to, static_cast<std::size_t>(in.numel()));
    if (expected.is_complex()) {
      EXPECT_TRUE(same_bits_or_both_nan(at::view_as_real(expected), at::view_as_real(got)));
    } else {
      EXPECT_TRUE(same_bits_or_both_nan(expected, got));
    }
  }
}

TEST(Cast, RefusesWhatItCannotConvert) {
  uint8_t in[4] = {1, 2, 3, 4};
  uint8_t out[16] = {};
  EXPECT_THROW(cast_elements(in, DType::Float8E4M3, out, DType::Float16, 4), InputError);
  EXPECT_THROW(cast_elements(in, DType::Float32, out, DType::Int32, 1), InputError);
}

}  // namespace
}  // namespace fsdpshard
