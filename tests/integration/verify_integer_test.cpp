// verify with a tolerance compares floating tensors in float64, which holds integers only
// up to 2^53; integer and bool tensors must still compare exactly (issue 18).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

// torch.save({'i': tensor([values], dtype)}) with torch 1.13, into `path`.
void save_ints(const std::string& path, const std::string& values, const std::string& dtype) {
  const auto r = run({python(), "-c",
                      "import sys, torch; torch.save({'i': torch.tensor(" + values + ", dtype=torch." + dtype +
                          ")}, sys.argv[1])",
                      path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(VerifyIntegers, Int64BeyondTwoToThe53AreNotEqualUnderZeroTolerance) {
  TempDir tmp;
  // 2^60 and 2^60 + 1 are the same float64.
  save_ints(tmp.file("a.th"), "[1, 2**60, 3]", "int64");
  save_ints(tmp.file("b.th"), "[1, 2**60 + 1, 3]", "int64");
  const auto exact = run_fsdpshard({"verify", tmp.file("a.th"), tmp.file("b.th"), "--json"});
  EXPECT_EQ(exact.exit_code, 1) << exact.out << exact.err;
  for (const std::vector<std::string> tol : {std::vector<std::string>{"--atol", "0", "--rtol", "0"},
                                             std::vector<std::string>{"--rtol", "1e-3"},
                                             std::vector<std::string>{"--atol", "0.5"}}) {
    std::vector<std::string> args{"verify", tmp.file("a.th"), tmp.file("b.th"), "--json"};
    args.insert(args.end(), tol.begin(), tol.end());
    const auto r = run_fsdpshard(args);
    EXPECT_EQ(r.exit_code, 1) << tol[0] << " " << tol[1] << ": " << r.out << r.err;
    const auto report = nlohmann::json::parse(r.out);
    ASSERT_EQ(report["differences"].size(), 1u) << r.out;
    EXPECT_EQ(report["differences"][0]["mismatched"], 1);
    EXPECT_EQ(report["differences"][0]["first_index"], 1);
    EXPECT_EQ(report["differences"][0]["max_abs_diff"], 1.0);
  }
  // Equal files are equal under a tolerance too.
  EXPECT_EQ(run_fsdpshard({"verify", tmp.file("a.th"), tmp.file("a.th"), "--rtol", "0"}).exit_code, 0);
}

TEST(VerifyIntegers, MixedIntegerDtypesCompareByValueExactly) {
  TempDir tmp;
  save_ints(tmp.file("i32.th"), "[-7, 0, 2**31 - 1]", "int32");
  save_ints(tmp.file("i64.th"), "[-7, 0, 2**31 - 1]", "int64");
  save_ints(tmp.file("i64_off.th"), "[-7, 1, 2**31 - 1]", "int64");
  save_ints(tmp.file("u8.th"), "[0, 255, 1]", "uint8");
  save_ints(tmp.file("i16.th"), "[0, 255, 1]", "int16");
  save_ints(tmp.file("neg.th"), "[0, -1, 1]", "int16");
  EXPECT_EQ(run_fsdpshard({"verify", tmp.file("i32.th"), tmp.file("i64.th"), "--atol", "0"}).exit_code, 0);
  EXPECT_EQ(run_fsdpshard({"verify", tmp.file("i32.th"), tmp.file("i64_off.th"), "--atol", "0"}).exit_code, 1);
  EXPECT_EQ(run_fsdpshard({"verify", tmp.file("u8.th"), tmp.file("i16.th"), "--rtol", "0"}).exit_code, 0);
  // 255 as uint8 and -1 as int16 share no value, whatever their bytes.
  EXPECT_EQ(run_fsdpshard({"verify", tmp.file("u8.th"), tmp.file("neg.th"), "--atol", "1000"}).exit_code, 1);
}

TEST(VerifyIntegers, BoolTensorsCompareExactly) {
  TempDir tmp;
  save_ints(tmp.file("a.th"), "[True, False, True]", "bool");
  save_ints(tmp.file("b.th"), "[True, True, True]", "bool");
  EXPECT_EQ(run_fsdpshard({"verify", tmp.file("a.th"), tmp.file("b.th"), "--atol", "1"}).exit_code, 1);
  EXPECT_EQ(run_fsdpshard({"verify", tmp.file("a.th"), tmp.file("a.th"), "--atol", "1"}).exit_code, 0);
}

}  // namespace
}  // namespace fsdpshard::test
