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
  // --force replaces only a previous fsdpshard output (output_safety_test.cpp), never "keep".
  const auto forced = run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("taken"), "--shards",
                                     "2", "--force"});
  EXPECT_EQ(forced.exit_code, 2) << forced.err;
  EXPECT_EQ(list_dir(dir.file("taken")), std::vector<std::string>{"keep"});
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"taken"});
}

TEST(Reshard, GatherOfTheShardSetGivesTheOriginalTensorsBack) {
  TempDir dir;
  for (const char* format : {"torch", "safetensors"}) {
    SCOPED_TRACE(format);
    const std::string shards = dir.file(std::string("set-") + format);
    // Greedy sharding keeps key order, so the gathered state dict matches in order too.
    const auto r = run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", shards, "--max-shard-size", "15kB",
                                  "--format", format, "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const std::string& input : {shards, shards + (std::string(format) == "torch"
                                                          ? "/pytorch_model.bin.index.json"
                                                          : "/model.safetensors.index.json")}) {
      const std::string back = dir.file("back.pt");
      const auto g = run_fsdpshard({"gather", input, "-o", back, "--to", "state-dict", "--force", "-q"});
      ASSERT_EQ(g.exit_code, 0) << g.err;
      const auto same = run_python("compare_state_dicts.py", {back, fixture("fsdp/checkpoint.th"), "--key-b",
                                                              "fsdp_best_state.model"});
      EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
    }
    // An export of the shard set: what AudioCraft's loader reads (weights_only, YAML cfg).
    const std::string exported = dir.file(std::string("export-") + format + ".bin");
    const auto e = run_fsdpshard({"gather", shards, "-o", exported, "--to", "export", "-q"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    EXPECT_EQ(run_python("load_weights_only.py", {exported}).exit_code, 0);
    const auto same = run_python("compare_state_dicts.py", {exported, fixture("fsdp/checkpoint.th"), "--key-a",
                                                            "best_state", "--key-b", "fsdp_best_state.model"});
    EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
    // `cfg` prints a shard set's config.yaml; editing one in place is not a torch.save edit.
    const auto cfg = run_fsdpshard({"cfg", shards});
    EXPECT_EQ(cfg.exit_code, 0) << cfg.err;
    EXPECT_EQ(cfg.out, run_python("print_cfg.py", {fixture("fsdp/checkpoint.th")}).out);
    const auto edit = run_fsdpshard({"cfg", shards, "-o", dir.file("edited"), "--set", "a=1"});
    EXPECT_EQ(edit.exit_code, 2);
    EXPECT_FALSE(file_exists(dir.file("edited")));
  }
}

TEST(Reshard, SingleSafetensorsFileIsAnInputToo) {
  TempDir dir;
  const std::string st = dir.file("model.safetensors");
  ASSERT_EQ(run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", st, "--to", "safetensors", "-q"}).exit_code, 0);
  const auto inspect = run_fsdpshard({"inspect", st, "--cfg"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("36 tensors"), std::string::npos) << inspect.out;
  const auto g = run_fsdpshard({"gather", st, "-o", dir.file("ft.th"), "-q"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const auto same = run_python("compare_state_dicts.py", {dir.file("ft.th"), fixture("fsdp/checkpoint.th"), "--key-a",
                                                          "best_state.model", "--key-b", "fsdp_best_state.model"});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  // The cfg travelled in the safetensors metadata and came back as a DictConfig.
  const auto c = run_python("cfg_check.py", {fixture("fsdp/checkpoint.th"), dir.file("ft.th"), "--only-cfg"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
}

TEST(Reshard, BrokenShardSetsAreClearErrors) {
  TempDir dir;
  const std::string shards = dir.file("s");
  ASSERT_EQ(run_fsdpshard({"reshard", fixture("fsdp/checkpoint.th"), "-o", shards, "--shards", "2", "-q"}).exit_code, 0);
  std::filesystem::remove(shards + "/pytorch_model-00002-of-00002.bin");
  const auto missing = run_fsdpshard({"gather", shards, "-o", dir.file("x.pt")});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("pytorch_model-00002-of-00002.bin"), std::string::npos) << missing.err;
  write_file(shards + "/pytorch_model.bin.index.json", "{\"weight_map\": 3}");
  const auto bad = run_fsdpshard({"inspect", shards});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("weight_map"), std::string::npos) << bad.err;
  EXPECT_FALSE(file_exists(dir.file("x.pt")));
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
