// fsdpshard verify: equal outputs (ours vs the Python recipe, across formats and shard
// sets), a changed tensor, a dtype change with and without tolerance, a cfg change, a
// flipped byte caught by --crc, and the same answers on 2 and 3 ranks.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

using nlohmann::json;

const char* const kInput = "fsdp/checkpoint.th";

// `fsdpshard gather <fixture> -o <dir>/<name> args…`, asserting success.
std::string gather(const TempDir& dir, const std::string& name, std::vector<std::string> args,
                   const std::string& input = kInput) {
  const std::string out = dir.file(name);
  std::vector<std::string> argv{"gather", fixture(input), "-o", out, "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_fsdpshard(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out;
}

json verify_json(const std::vector<std::string>& args, int expected_exit) {
  std::vector<std::string> argv{"verify", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_fsdpshard(argv);
  EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
  return json::parse(r.out);
}

TEST(Verify, GatherOutputEqualsPythonRecipe) {
  TempDir dir;
  const std::string ours = gather(dir, "ours.th", {"--set", "optim.lr=1e-5"});
  const auto recipe = run_python("python_recipe.py", {fixture(kInput), dir.file("recipe.th"), "--set", "optim.lr=1e-5"});
  ASSERT_EQ(recipe.exit_code, 0) << recipe.err;
  const auto r = run_fsdpshard({"verify", "--crc", ours, dir.file("recipe.th")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verify: equal"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("all match"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");

  const json j = verify_json({ours, dir.file("recipe.th")}, 0);
  EXPECT_TRUE(j["equal"].get<bool>());
  EXPECT_GT(j["tensors_compared"].get<int>(), 10);
  EXPECT_TRUE(j["cfg"]["compared"].get<bool>());
  EXPECT_TRUE(j["cfg"]["equal"].get<bool>());
  EXPECT_EQ(j["a"]["source"], "best_state.model");
}

TEST(Verify, InputAgainstItsGatherUsesTheSameFromRule) {
  TempDir dir;
  // The input's auto source is fsdp_best_state.model, the output's best_state.model.
  const std::string ours = gather(dir, "ours.th", {});
  const json j = verify_json({fixture(kInput), ours}, 0);
  EXPECT_EQ(j["a"]["source"], "fsdp_best_state.model");
  EXPECT_EQ(j["b"]["source"], "best_state.model");
}

TEST(Verify, ViewsCompareByValueNotLayout) {
  TempDir dir;
  const std::string ours = gather(dir, "views.pt", {"--to", "state-dict"}, "state_dict_views.pt");
  verify_json({fixture("state_dict_views.pt"), ours, "--crc"}, 0);
}

TEST(Verify, ChangedTensorIsNamed) {
  TempDir dir;
  const std::string a = gather(dir, "a.pt", {"--to", "state-dict"});
  const auto bumped = run_python("perturb_checkpoint.py", {a, dir.file("b.pt"), "--bump", "emb.0.weight"});
  ASSERT_EQ(bumped.exit_code, 0) << bumped.err;
  const auto r = run_fsdpshard({"verify", a, dir.file("b.pt")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("values differ: emb.0.weight: 1 of"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verify: different: 1 difference"), std::string::npos) << r.out;

  const json j = verify_json({a, dir.file("b.pt")}, 1);
  ASSERT_EQ(j["differences"].size(), 1u) << j.dump(1);
  EXPECT_EQ(j["differences"][0]["name"], "emb.0.weight");
  EXPECT_EQ(j["differences"][0]["kind"], "values");
  EXPECT_EQ(j["differences"][0]["mismatched"], 1);
  EXPECT_EQ(j["differences"][0]["first_index"], 0);
  // A tolerance above 1 accepts the change (a + 1 - a is not exactly 1 in floating point).
  verify_json({a, dir.file("b.pt"), "--atol", "1.5"}, 0);
}

TEST(Verify, DtypeDifferenceNeedsATolerance) {
  TempDir dir;
  const std::string keep = gather(dir, "keep.pt", {"--to", "state-dict"});
  const std::string bf16 = gather(dir, "bf16.pt", {"--to", "state-dict", "--dtype", "bfloat16"});
  const json strict = verify_json({keep, bf16}, 1);
  ASSERT_FALSE(strict["differences"].empty());
  EXPECT_EQ(strict["differences"][0]["kind"], "dtype");
  EXPECT_EQ(strict["differences"][0]["b"], "bfloat16");
  // bfloat16 keeps 8 significant bits: a relative error below 2^-8.
  const json loose = verify_json({keep, bf16, "--rtol", "1e-2", "--atol", "1e-6"}, 0);
  EXPECT_EQ(loose["tolerance"]["rtol"], 1e-2);
  EXPECT_GT(loose["tensors_compared"].get<int>(), 10);
  const json tight = verify_json({keep, bf16, "--atol", "1e-9"}, 1);
  EXPECT_EQ(tight["differences"][0]["kind"], "values");
  EXPECT_GT(tight["differences"][0]["max_abs_diff"].get<double>(), 0.0);
}

TEST(Verify, CfgDifferenceIsADiff) {
  TempDir dir;
  const std::string a = gather(dir, "a.th", {});
  const std::string b = gather(dir, "b.th", {"--set", "optim.lr=0.5"});
  const auto r = run_fsdpshard({"verify", a, b});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("xp.cfg differs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+   lr: 0.5"), std::string::npos) << r.out;
  const json j = verify_json({a, b}, 1);
  EXPECT_FALSE(j["cfg"]["equal"].get<bool>());
  EXPECT_TRUE(j["differences"].empty());
  verify_json({a, b, "--ignore-cfg"}, 0);
}

TEST(Verify, FlippedByteIsACrcMismatchNamingTheRecord) {
  TempDir dir;
  const std::string a = gather(dir, "a.pt", {"--to", "state-dict"});
  const auto flipped = run_python("perturb_checkpoint.py", {a, dir.file("b.pt"), "--flip-record", "data/3"});
  ASSERT_EQ(flipped.exit_code, 0) << flipped.err;
  // torch.load takes the file as it is (it never checks CRCs) …
  const auto loads = run_python("compare_checkpoints.py", {a, dir.file("b.pt")});
  EXPECT_EQ(loads.exit_code, 1) << loads.out << loads.err;  // loads fine, values differ
  // … verify --crc names the corrupt record and fails as bad input.
  const auto r = run_fsdpshard({"verify", "--crc", a, dir.file("b.pt")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("CRC-32 mismatch: " + dir.file("b.pt") + ": record 'data/3'"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.rfind("fsdpshard: error: " + dir.file("b.pt") + ": record 'data/3' fails its CRC-32 check", 0), 0u)
      << r.err;
  const json j = verify_json({"--crc", a, dir.file("b.pt")}, 2);
  ASSERT_EQ(j["crc"]["mismatches"].size(), 1u);
  EXPECT_EQ(j["crc"]["mismatches"][0]["record"], "data/3");
  EXPECT_EQ(j["crc"]["mismatches"][0]["side"], "B");
  // Without --crc the changed value shows as a difference.
  verify_json({a, dir.file("b.pt")}, 1);
}

// A record copied unchanged keeps the CRC-32 its input states: gather does not turn a
// corrupt input into a file whose CRCs vouch for the corruption.
TEST(Verify, GatherOfACorruptInputStaysDetectablyCorrupt) {
  TempDir dir;
  const std::string a = gather(dir, "a.pt", {"--to", "state-dict"});
  const std::string b = dir.file("b.pt"), c = dir.file("c.pt");
  const auto flipped = run_python("perturb_checkpoint.py", {a, b, "--flip-record", "data/3"});
  ASSERT_EQ(flipped.exit_code, 0) << flipped.err;
  const auto copied = run_fsdpshard({"gather", b, "-o", c, "--to", "state-dict"});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  // torch.load sees the corrupt input's values in the copy …
  const auto loads = run_python("compare_checkpoints.py", {b, c});
  EXPECT_EQ(loads.exit_code, 0) << loads.out << loads.err;
  // … and verify --crc finds the copied record as corrupt as the original.
  const json j = verify_json({"--crc", b, c}, 2);
  std::set<std::string> sides;
  for (const auto& m : j["crc"]["mismatches"]) sides.insert(m["side"].get<std::string>());
  EXPECT_EQ(sides, (std::set<std::string>{"A", "B"})) << j.dump(1);
  // A clean input gives a copy whose CRCs all hold.
  const std::string d = dir.file("d.pt");
  ASSERT_EQ(run_fsdpshard({"gather", a, "-o", d, "--to", "state-dict"}).exit_code, 0);
  verify_json({"--crc", a, d}, 0);
}

TEST(Verify, SafetensorsAndShardSetsEqualTheExport) {
  TempDir dir;
  const std::string exported = gather(dir, "state_dict.bin", {"--to", "export"});
  const std::string st = gather(dir, "model.safetensors", {"--to", "safetensors"});
  verify_json({exported, st}, 0);
  for (const char* format : {"torch", "safetensors"}) {
    const std::string shards = dir.file(std::string("shards-") + format);
    const auto r = run_fsdpshard({"reshard", fixture(kInput), "-o", shards, "--shards", "3", "--format", format, "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = verify_json({shards, exported, "--crc"}, 0);
    EXPECT_EQ(j["a"]["kind"], "shards");
    EXPECT_TRUE(j["cfg"]["equal"].get<bool>());
  }
}

TEST(Verify, MissingFileIsExitTwoWithOneLine) {
  TempDir dir;
  const auto r = run_fsdpshard({"verify", dir.file("nope.th"), fixture(kInput)});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "fsdpshard: error: " + dir.file("nope.th") + ": no such file\n");
}

TEST(VerifyMpi, SameFindingsOnTwoAndThreeRanks) {
  TempDir dir;
  const std::string a = gather(dir, "a.pt", {"--to", "state-dict"});
  const auto bumped = run_python("perturb_checkpoint.py", {a, dir.file("b.pt"), "--bump", "linears.1.weight"});
  ASSERT_EQ(bumped.exit_code, 0) << bumped.err;
  const json local = verify_json({"--crc", a, dir.file("b.pt")}, 1);
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(ranks);
    const auto r = run_fsdpshard_mpi(ranks, {"verify", "--json", "--crc", a, dir.file("b.pt"), "--backend", "mpi"});
    ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
    const json j = json::parse(r.out);  // rank 0 alone prints
    EXPECT_EQ(j["ranks"], ranks);
    EXPECT_EQ(j["differences"], local["differences"]);
    EXPECT_EQ(j["crc"], local["crc"]);
    EXPECT_EQ(j["bytes_compared"], local["bytes_compared"]);
    const std::string again = gather(dir, "a" + std::to_string(ranks) + ".pt", {"--to", "state-dict"});
    const auto same = run_fsdpshard_mpi(ranks, {"verify", a, again, "--backend", "mpi"});
    EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  }
}

}  // namespace
}  // namespace fsdpshard::test
