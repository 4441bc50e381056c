// fsdpshard gather end to end: outputs checked with real torch.load against the user's
// Python recipe (tests/python/python_recipe.py), one process and under mpirun.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

const char* const kDescriptionExclude = "condition_provider.conditioners.description*";

// Runs the Python recipe with `recipe_args` and compares its output with `ours`.
void expect_same_as_recipe(const std::string& input, const std::string& ours,
                           const std::vector<std::string>& recipe_args, const TempDir& dir) {
  const std::string expected = dir.file("expected.th");
  std::vector<std::string> args{input, expected};
  args.insert(args.end(), recipe_args.begin(), recipe_args.end());
  const auto recipe = run_python("python_recipe.py", args);
  ASSERT_EQ(recipe.exit_code, 0) << recipe.err;
  const auto compare = run_python("compare_checkpoints.py", {ours, expected});
  EXPECT_EQ(compare.exit_code, 0) << compare.out << compare.err;
}

TEST(Gather, FsdpRank0ToTrainingMatchesPythonRecipe) {
  TempDir dir;
  const std::string out = dir.file("ft.th");
  const auto r = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", out, "--exclude", kDescriptionExclude,
                                "--set", "optim.lr=1e-5", "--set", "optim.epochs=50", "--set",
                                "dataset.train.path=/data/ft"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("gathered"), std::string::npos) << r.err;  // the summary line
  expect_same_as_recipe(fixture("fsdp/checkpoint.th"), out,
                        {"--exclude", kDescriptionExclude, "--set", "optim.lr=1e-5", "--set", "optim.epochs=50",
                         "--set", "dataset.train.path=/data/ft"},
                        dir);
}

TEST(Gather, TrainingToExportMatchesPythonRecipe) {
  TempDir dir;
  const std::string out = dir.file("state_dict.bin");
  const auto r = run_fsdpshard({"gather", fixture("training/checkpoint.th"), "-o", out, "--to", "export", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // --quiet
  expect_same_as_recipe(fixture("training/checkpoint.th"), out, {"--to", "export"}, dir);
  // weights_only=True loads an export: xp.cfg is YAML text.
  const auto safe = run_python("load_weights_only.py", {out});
  EXPECT_EQ(safe.exit_code, 0) << safe.out << safe.err;
}

TEST(Gather, ExportedBackToTrainingMatchesPythonRecipe) {
  TempDir dir;
  const std::string out = dir.file("ft.th");
  const auto r = run_fsdpshard({"gather", fixture("exported/state_dict.bin"), "-o", out, "--set", "optim.lr=0.0002"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_as_recipe(fixture("exported/state_dict.bin"), out, {"--set", "optim.lr=0.0002"}, dir);
}

TEST(Gather, DtypeCastAndStateDictOutput) {
  TempDir dir;
  const std::string out = dir.file("sd.pt");
  const auto r = run_fsdpshard({"gather", fixture("training/checkpoint.th"), "-o", out, "--from", "model",
                                "--to", "state-dict", "--dtype", "bfloat16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_as_recipe(fixture("training/checkpoint.th"), out,
                        {"--from", "model", "--to", "state-dict", "--dtype", "bfloat16"}, dir);
}

TEST(Gather, ViewsAndSharedStoragesSurvive) {
  TempDir dir;
  const std::string out = dir.file("views.pt");
  const auto r = run_fsdpshard({"gather", fixture("state_dict_views.pt"), "-o", out, "--to", "state-dict"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto compare = run_python("compare_checkpoints.py", {out, fixture("state_dict_views.pt"), "--check-storage"});
  EXPECT_EQ(compare.exit_code, 0) << compare.out << compare.err;
}

TEST(Gather, SafetensorsOutputHoldsTensorsAndCfg) {
  TempDir dir;
  const std::string out = dir.file("model.safetensors");
  const auto r = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", out, "--to", "safetensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto check = run_python("check_safetensors.py", {out, fixture("fsdp/checkpoint.th"), "fsdp_best_state.model"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST(Gather, RankShardFileIsRefusedWithPointerToRank0) {
  TempDir dir;
  const auto r = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th.1"), "-o", dir.file("x.th")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("checkpoint.th"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rank 0"), std::string::npos) << r.err;
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(Gather, DryRunPrintsPlanAndWritesNothing) {
  TempDir dir;
  const auto r = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("x.th"), "--dry-run",
                                "--exclude", kDescriptionExclude, "--set", "optim.lr=1e-5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rank 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ "), std::string::npos) << r.out;  // cfg diff
  EXPECT_EQ(r.out.find(kDescriptionExclude), std::string::npos);
  EXPECT_TRUE(list_dir(dir.path()).empty());
}

TEST(Gather, ExistingOutputNeedsForce) {
  TempDir dir;
  write_file(dir.file("x.th"), "precious");
  const auto r = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("x.th")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(read_file(dir.file("x.th")), "precious");
  const auto forced = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("x.th"), "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"x.th"});
}

TEST(Gather, SelectionRulesApplyInOrderAndRenameCollisionsFail) {
  TempDir dir;
  const std::string out = dir.file("sd.pt");
  // Everything but the transformer, then layer 0's norms back in.
  const auto r = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", out, "--to", "state-dict",
                                "--exclude", "transformer.*", "--include", "re:^transformer\\.layers\\.0\\.norm",
                                "--rename", "^linears\\.(\\d+)=>heads.\\1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto keys = run_python("list_keys.py", {out});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  EXPECT_NE(keys.out.find("transformer.layers.0.norm1.weight\n"), std::string::npos) << keys.out;
  EXPECT_EQ(keys.out.find("transformer.layers.0.linear1.weight"), std::string::npos) << keys.out;
  EXPECT_EQ(keys.out.find("transformer.layers.1."), std::string::npos) << keys.out;
  EXPECT_NE(keys.out.find("heads.0.weight\n"), std::string::npos) << keys.out;
  EXPECT_EQ(keys.out.find("linears."), std::string::npos) << keys.out;

  const auto clash = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("y.pt"), "--rename",
                                    "^linears\\.\\d+=>same"});
  EXPECT_EQ(clash.exit_code, 2);
  EXPECT_NE(clash.err.find("same"), std::string::npos) << clash.err;
  EXPECT_FALSE(file_exists(dir.file("y.pt")));
}

TEST(GatherMpi, OutputIsByteIdenticalForOneToFourRanksAndBothBackends) {
  TempDir dir;
  const std::vector<std::string> common{"--exclude", kDescriptionExclude, "--set", "optim.lr=1e-5", "-q"};
  auto args_for = [&](const std::string& out, const std::string& backend) {
    std::vector<std::string> args{"gather", fixture("fsdp/checkpoint.th"), "-o", out, "--backend", backend};
    args.insert(args.end(), common.begin(), common.end());
    return args;
  };
  // Same file name everywhere: the zip's root folder is named after it.
  auto out_in = [&](const std::string& sub) {
    std::filesystem::create_directories(dir.file(sub));
    return dir.file(sub + "/ft.th");
  };
  const auto local = run_fsdpshard(args_for(out_in("local"), "local"));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const std::string reference = read_file(out_in("local"));
  for (int ranks = 1; ranks <= 4; ++ranks) {
    const std::string out = out_in("mpi" + std::to_string(ranks));
    const auto r = run_fsdpshard_mpi(ranks, args_for(out, "mpi"));
    ASSERT_EQ(r.exit_code, 0) << "ranks=" << ranks << "\n" << r.err;
    EXPECT_TRUE(read_file(out) == reference) << "ranks=" << ranks << " differs from the local output";
  }
  // More ranks than tensors: the views fixture has a handful of storages.
  const auto many = run_fsdpshard_mpi(4, {"gather", fixture("state_dict_views.pt"), "-o", dir.file("v.pt"),
                                          "--to", "state-dict", "--backend", "mpi", "-q"});
  ASSERT_EQ(many.exit_code, 0) << many.err;
  const auto compare = run_python("compare_checkpoints.py", {dir.file("v.pt"), fixture("state_dict_views.pt")});
  EXPECT_EQ(compare.exit_code, 0) << compare.out << compare.err;
}

TEST(GatherMpi, SmallInflightBoundStillGivesTheSameBytes) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("a"));
  std::filesystem::create_directories(dir.file("b"));
  const auto a = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("a/x.th"), "-q"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b = run_fsdpshard_mpi(3, {"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("b/x.th"),
                                       "--backend", "mpi", "--max-inflight", "4MiB", "-q"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_TRUE(read_file(dir.file("a/x.th")) == read_file(dir.file("b/x.th")));
}

TEST(GatherMpi, FailureOnRankOneLeavesNoOutputAndFailsEveryRank) {
  TempDir dir;
  const auto r = run_fsdpshard_mpi(2, {"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("x.th"),
                                       "--backend", "mpi", "-q"},
                                   {"FSDPSHARD_TEST_FAIL_RANK=1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("injected failure"), std::string::npos) << r.err;
  EXPECT_TRUE(list_dir(dir.path()).empty()) << "left behind: " << (list_dir(dir.path()).empty() ? "" : list_dir(dir.path())[0]);
}

}  // namespace
}  // namespace fsdpshard::test
