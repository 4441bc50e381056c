// Which conversions cast_elements performs (plan/cast.cpp), over every pair of dtypes:
// cast_test.cpp checks the bits of the allowed ones against LibTorch; this pins which
// ones are allowed at all, and that the rest are InputErrors rather than garbage.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "fsdpshard/plan/cast.h"
#include "fsdpshard/util/dtype.h"
#include "support/input_error.h"

namespace fsdpshard {
namespace {

using test::message_of;

std::vector<DType> every_dtype() {
  std::vector<DType> all;
  for (int d = static_cast<int>(DType::Float64); d <= static_cast<int>(DType::Bits4x2); ++d) {
    all.push_back(static_cast<DType>(d));
  }
  return all;
}

// Sources: what a double (plus an imaginary part) holds exactly enough to convert from.
const std::set<DType> kReadable = {DType::Float64, DType::Float32, DType::Float16,   DType::BFloat16,
                                   DType::Int64,   DType::Int32,   DType::Int16,     DType::Int8,
                                   DType::UInt8,   DType::UInt16,  DType::UInt32,    DType::UInt64,
                                   DType::Bool,    DType::Complex64, DType::Complex128};
// Targets: the floating and complex types cast.h names.
const std::set<DType> kWritable = {DType::Float64, DType::Float32, DType::Float16, DType::BFloat16,
                                   DType::Complex64, DType::Complex128};

TEST(CastRules, ExactlyTheReadableToWritablePairsAndIdentityConvert) {
  const std::vector<DType> all = every_dtype();
  ASSERT_EQ(all.back(), DType::Bits4x2);
  std::vector<unsigned char> in(16, 0x11), out(16, 0);
  for (DType from : all) {
    for (DType to : all) {
      SCOPED_TRACE(std::string(torch_name(from)) + " -> " + std::string(torch_name(to)));
      const bool allowed = from == to || (kReadable.count(from) && kWritable.count(to));
      const std::string message = message_of([&] { cast_elements(in.data(), from, out.data(), to, 1); });
      if (allowed) {
        EXPECT_EQ(message, "(no InputError)");
      } else {
        // The message names both dtypes of the pair, and no element count hides a refusal.
        EXPECT_NE(message.find("cannot convert " + std::string(torch_name(from)) + " tensors to " +
                               std::string(torch_name(to))),
                  std::string::npos)
            << message;
        EXPECT_EQ(message_of([&] { cast_elements(in.data(), from, out.data(), to, 0); }), message);
      }
    }
  }
}

TEST(CastRules, TheSameDtypeIsCopiedByteForByte) {
  // Also for dtypes fsdpshard never converts (float8, the bits types): identity is a copy.
  const std::vector<unsigned char> in = {0x80, 0x7f, 0xff, 0x01, 0x00, 0xaa};
  for (DType d : {DType::Float8E4M3, DType::Bits8, DType::UInt8, DType::Float4E2M1FNx2}) {
    std::vector<unsigned char> out(in.size(), 0);
    cast_elements(in.data(), d, out.data(), d, in.size() / element_size(d));
    EXPECT_EQ(out, in) << torch_name(d);
  }
}

TEST(CastRules, IntegersAndBoolWidenToFloat64Exactly) {
  const int64_t ints[] = {-3, 0, 1 << 20, (int64_t{1} << 53)};
  double out[4] = {};
  cast_elements(ints, DType::Int64, out, DType::Float64, 4);
  EXPECT_EQ(out[0], -3.0);
  EXPECT_EQ(out[2], 1048576.0);
  EXPECT_EQ(out[3], 9007199254740992.0);
  const bool flags[] = {true, false};
  cast_elements(flags, DType::Bool, out, DType::Float64, 2);
  EXPECT_EQ(out[0], 1.0);
  EXPECT_EQ(out[1], 0.0);
}

}  // namespace
}  // namespace fsdpshard
