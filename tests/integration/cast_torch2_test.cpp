// fsdpshard's casts against torch 2.x's `.to(dtype)`, bit for bit: cast_elements (what
// gather --dtype runs) on every 16-bit pattern and the float32 sample of
// tests/support/cast_inputs.h, each compared with what the torch 2.x venv's torch gives
// for the same bytes; then gather --dtype end to end on a file torch 2.x wrote.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fsdpshard/plan/cast.h"
#include "support/cast_inputs.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

template <typename T>
std::string as_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Casts `input` (raw elements of `from`) with fsdpshard and with torch; expects the same bytes.
void expect_cast_like_torch2(const std::string& torch2, const std::string& input, DType from, DType to) {
  TempDir dir;
  write_file(dir.file("in.bin"), input);
  const auto r = run_python2(torch2, "torch_casts.py",
                             {"cast", dir.file("in.bin"), std::string(torch_name(from)),
                              std::string(torch_name(to)), dir.file("torch.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string theirs = read_file(dir.file("torch.bin"));
  const std::size_t count = input.size() / element_size(from);
  ASSERT_EQ(theirs.size(), count * element_size(to));
  std::string ours(theirs.size(), '\0');
  cast_elements(input.data(), from, ours.data(), to, count);
  std::size_t wrong = 0;
  const std::size_t in_size = element_size(from), out_size = element_size(to);
  for (std::size_t i = 0; i < count; ++i) {
    if (std::memcmp(&ours[i * out_size], &theirs[i * out_size], out_size) == 0 || ++wrong > 5) continue;
    uint32_t x = 0, a = 0, b = 0;
    std::memcpy(&x, &input[i * in_size], in_size);
    std::memcpy(&a, &ours[i * out_size], out_size);
    std::memcpy(&b, &theirs[i * out_size], out_size);
    ADD_FAILURE() << torch_name(from) << " -> " << torch_name(to) << " input 0x" << std::hex << x
                  << ": ours 0x" << a << ", torch 0x" << b;
  }
  EXPECT_EQ(wrong, 0u) << "of " << count << " " << torch_name(from) << " -> " << torch_name(to);
}

TEST(CastTorch2, Float32ToHalfAndBFloat16BitForBit) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const std::string floats = as_bytes(float32_cast_patterns());
  expect_cast_like_torch2(torch2, floats, DType::Float32, DType::Float16);
  expect_cast_like_torch2(torch2, floats, DType::Float32, DType::BFloat16);
}

TEST(CastTorch2, Every16BitPatternBitForBit) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const std::string all = as_bytes(all_16_bit_patterns());
  expect_cast_like_torch2(torch2, all, DType::Float16, DType::Float32);
  expect_cast_like_torch2(torch2, all, DType::BFloat16, DType::Float32);
  expect_cast_like_torch2(torch2, all, DType::Float16, DType::BFloat16);
  expect_cast_like_torch2(torch2, all, DType::BFloat16, DType::Float16);
}

// The whole path: torch 2.x writes NaNs, ties and every 16-bit pattern; gather --dtype
// casts them; torch 2.x loads the result and compares it with its own .to(dtype).
TEST(CastTorch2, GatherDtypeEqualsTorchTo) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  TempDir dir;
  const std::string input = dir.file("patterns.th");
  const auto made = run_python2(torch2, "torch_casts.py", {"make", input});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  for (const std::string dtype : {"float16", "bfloat16", "float32"}) {
    const std::string out = dir.file(dtype + ".th");
    const auto r = run_fsdpshard({"gather", input, "-o", out, "--to", "state-dict", "--dtype", dtype, "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto check = run_python2(torch2, "torch_casts.py", {"check", input, out, dtype});
    EXPECT_EQ(check.exit_code, 0) << dtype << ":\n" << check.out << check.err;
  }
}

}  // namespace
}  // namespace fsdpshard::test
