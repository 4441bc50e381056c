// fsdpshard reshard end to end: shard files + index + config.yaml checked with real torch,
// one process and under mpirun; and gather of the shard set back.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

TEST(Reshard, TorchShardsBalancedByBytes) {
  TempDir dir;
  const std::string out = dir.file("shards");
  const auto r = run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", out, "--shards", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(list_dir(out), (std::vector<std::string>{"config.yaml", "pytorch_model-00001-of-00003.bin",
                                                     "pytorch_model-00002-of-00003.bin",
                                                     "pytorch_model-00003-of-00003.bin",
                                                     "pytorch_model.bin.index.json"}));
  const auto c = run_python("check_shards.py", {out, fixture("fsdp/checkpoint.th"), "fsdp_best_state.model",
                                                "--format", "torch", "--shards", "3"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
}

TEST(Reshard, SafetensorsWithMaxShardSizeAndSelection) {
  TempDir dir;
  const std::string out = dir.file("st");
  // 20kB (decimal) forces several files at the tiny scale.
  const auto r = run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", out, "--max-shard-size", "20kB",
                                "--format", "safetensors", "--exclude", "condition_provider.*"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto c = run_python("check_shards.py", {out, fixture("fsdp/checkpoint.th"), "fsdp_best_state.model",
                                                "--format", "safetensors", "--max-shard-size", "20000",
                                                "--exclude", "condition_provider.*"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
}

TEST(Reshard, SharedStoragesStayInOneFile) {
  TempDir dir;
  const std::string out = dir.file("v");
  const auto r = run_fsdpshard({"reshard", fixture("state_dict_views.pt"), "-o", out, "--shards", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto c = run_python("check_shards.py", {out, fixture("state_dict_views.pt"), "", "--format", "torch"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
}

TEST(Reshard, NeedsShardsOrSizeAndRefusesExistingFolder) {
  TempDir dir;
  EXPECT_EQ(run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("x")}).exit_code, 2);
  EXPECT_EQ(run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("x"), "--max-shard-size",
                           "lots"}).exit_code, 2);
  std::filesystem::create_directories(dir.file("taken"));
  write_file(dir.file("taken/keep"), "x");
  const auto r = run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("taken"), "--shards", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(list_dir(dir.file("taken")), std::vector<std::string>{"keep"});
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"taken"});
  const auto forced = run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("taken"), "--shards",
                                     "2", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"taken"});
}

TEST(ReshardMpi, SameFilesForOneToFourRanksAndRank0Writers) {
  TempDir dir;
  const auto reference = run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("ref"), "--shards",
                                        "3", "-q"});
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  const auto names = list_dir(dir.file("ref"));
  for (int ranks = 1; ranks <= 4; ++ranks) {
    for (const char* writers : {"all", "rank0"}) {
      const std::string out = dir.file(std::string("mpi") + std::to_string(ranks) + writers);
      const auto r = run_fsdpshard_mpi(ranks, {"reshard", fixture("fsdp/checkpoint.th"), "-o", out, "--shards", "3",
                                               "--backend", "mpi", "--writers", writers, "-q"});
      ASSERT_EQ(r.exit_code, 0) << ranks << " " << writers << ": " << r.err;
      ASSERT_EQ(list_dir(out), names);
      for (const auto& name : names) {
        EXPECT_TRUE(read_file(out + "/" + name) == read_file(dir.file("ref/" + name)))
            << name << " differs with " << ranks << " ranks, writers " << writers;
      }
    }
  }
}

TEST(ReshardMpi, FailureOnOneRankLeavesNoFolder) {
  TempDir dir;
  const auto r = run_fsdpshard_mpi(3, {"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("out"), "--shards",
                                       "3", "--backend", "mpi", "-q"},
                                   {"FSDPSHARD_TEST_FAIL_RANK=2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

}  // namespace
}  // namespace fsdpshard::test
