// An FSDP run's per-rank files as one input (open_source, src/source): with a per-rank
// --from, verify and reshard read every rank's pieces as gather does, and inspect reads
// the run's folder. Checked against FSDP's own FULL_STATE_DICT (full_model.th, full_ema.th
// in tests/fixtures/fsdp, torch 2.x) with real torch.load.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

using json = nlohmann::json;

std::string real_fsdp(const std::string& name) { return source_dir() + "/tests/fixtures/fsdp/" + name; }

TEST(FsdpSet, VerifyReadsThePiecesOfEveryRank) {
  TempDir dir;
  const std::string gathered = dir.file("model.safetensors");
  const auto g = run_fsdpshard({"gather", real_fsdp("w2"), "-o", gathered, "--from", "model", "--to", "safetensors",
                                "-q"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const auto r = run_fsdpshard({"verify", real_fsdp("w2"), gathered, "--from", "model", "--json", "--crc"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["a"]["kind"], "fsdp");
  EXPECT_EQ(j["a"]["source"], "model");
  EXPECT_EQ(j["a"]["tensors"], 36);
  EXPECT_EQ(j["b"]["kind"], "safetensors");
  EXPECT_TRUE(j["equal"].get<bool>());
  EXPECT_EQ(j["tensors_compared"], 36);
  EXPECT_GT(j["crc"]["records"].get<int>(), 0);  // every record of both rank files
  EXPECT_TRUE(j["crc"]["mismatches"].empty());

  // The human report names the set and its state dict.
  const auto human = run_fsdpshard({"verify", real_fsdp("w2"), gathered, "--from", "model"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("(fsdp, model): 36 tensors"), std::string::npos) << human.out;

  // A different state dict of the same run differs in values, named per tensor.
  const auto ema = run_fsdpshard({"verify", real_fsdp("w2"), gathered, "--from", "ema.state.model", "--json"});
  EXPECT_EQ(ema.exit_code, 1) << ema.err;
}

TEST(FsdpSet, VerifyUnderMpiOnThreeRankFiles) {
  TempDir dir;
  const std::string shards = dir.file("shards");
  const auto r = run_fsdpshard({"reshard", real_fsdp("w3"), "-o", shards, "--from", "model", "--shards", "2", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto v = run_fsdpshard_mpi(2, {"verify", real_fsdp("w3"), shards, "--from", "model", "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  const json j = json::parse(v.out);
  EXPECT_EQ(j["a"]["kind"], "fsdp");
  EXPECT_EQ(j["b"]["kind"], "shards");
  EXPECT_EQ(j["ranks"], 2);
}

TEST(FsdpSet, ReshardWritesTheFullStateDict) {
  struct Case {
    const char* world;
    const char* from;
    const char* reference;
    std::vector<std::string> size;
    const char* format;
  };
  const Case cases[] = {{"w3", "model", "full_model.th", {"--shards", "3"}, "torch"},
                        {"w2", "ema.state.model", "full_ema.th", {"--max-shard-size", "8000"}, "safetensors"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.world) + " --from " + c.from + " " + c.format);
    TempDir dir;
    const std::string out = dir.file("shards");
    std::vector<std::string> args{"reshard", real_fsdp(c.world), "-o", out, "--from", c.from, "--format", c.format,
                                  "-q"};
    args.insert(args.end(), c.size.begin(), c.size.end());
    const auto r = run_fsdpshard(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Each shard loads alone and their union is FSDP's own full state dict, bitwise.
    std::vector<std::string> check{out, real_fsdp(std::string(c.world) + "/" + c.reference), "", "--format", c.format};
    check.insert(check.end(), c.size.begin(), c.size.end());
    const auto py = run_python("check_shards.py", check);
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
  }
}

TEST(FsdpSet, InspectReadsTheRunFolder) {
  const auto r = run_fsdpshard({"inspect", real_fsdp("w2"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["layout"], "fsdp-rank0");
  EXPECT_FALSE(j["state_dicts"].empty());
}

}  // namespace
}  // namespace fsdpshard::test
