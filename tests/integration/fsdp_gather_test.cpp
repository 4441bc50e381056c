// gather --from model|best_state.model|ema.state.model on real FSDP per-rank files
// (tests/fixtures/fsdp/w2, w3: torch 2.x FSDP on CPU, see make_fsdp_fixtures.py): the
// reassembled state dict must equal what FSDP's own FULL_STATE_DICT gave, bitwise.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

namespace fs = std::filesystem;

std::string real_fsdp(const std::string& name) { return source_dir() + "/tests/fixtures/fsdp/" + name; }

// Bitwise comparison with real torch (tests/python/compare_state_dicts.py).
void expect_same(const std::string& ours, const std::string& reference, const std::string& key = "") {
  std::vector<std::string> args{ours, reference};
  if (!key.empty()) args.insert(args.end(), {"--key-b", key});
  const auto r = run_python("compare_state_dicts.py", args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

struct Case {
  const char* from;
  const char* reference;  // file in the fixture folder
  const char* key;        // mapping inside it
};
const Case kCases[] = {{"model", "full_model.th", ""},
                       {"ema.state.model", "full_ema.th", ""},
                       {"best_state.model", "checkpoint.th", "fsdp_best_state.model"}};

TEST(FsdpGather, EveryPerRankStateEqualsTheFullStateDict) {
  TempDir dir;
  for (const char* world : {"w2", "w3"}) {
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(world) + " --from " + c.from);
      const std::string out = dir.file(std::string(world) + "_" + c.from + ".th");
      const auto r = run_fsdpshard({"gather", real_fsdp(world), "-o", out, "--from", c.from, "--to", "state-dict", "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      expect_same(out, real_fsdp(std::string(world) + "/" + c.reference), c.key);
    }
  }
}

TEST(FsdpGather, UnderMpiWithRank0FileAndShapesFrom) {
  TempDir dir;
  const std::string out = dir.file("model.th");
  const auto r = run_fsdpshard_mpi(2, {"gather", real_fsdp("w3/checkpoint.th"), "-o", out, "--from", "model", "--to",
                                       "state-dict", "--shapes-from", real_fsdp("w3/full_model.th")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same(out, real_fsdp("w3/full_model.th"));
}

TEST(FsdpGather, TrainingOutputHoldsTheGatheredModel) {
  TempDir dir;
  const std::string out = dir.file("ft.th");
  const auto r = run_fsdpshard({"gather", real_fsdp("w2"), "-o", out, "--from", "model", "--dtype", "float16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // fsdp_best_state is the fp16 copy of the same weights: the cast gather must equal it.
  const auto cmp = run_python("compare_state_dicts.py",
                              {out, real_fsdp("w2/checkpoint.th"), "--key-a", "best_state.model", "--key-b",
                               "fsdp_best_state.model"});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.out << cmp.err;
}

// Copies some of a fixture's rank files into `dir` under the given names.
void copy_files(const std::vector<std::pair<std::string, std::string>>& files, const TempDir& dir) {
  for (const auto& [from, to] : files) fs::copy_file(real_fsdp(from), dir.file(to));
}

TEST(FsdpGather, MissingOrExtraRankFilesAreClearErrors) {
  {
    TempDir dir;  // world 3 with the last rank file missing
    copy_files({{"w3/checkpoint.th", "checkpoint.th"}, {"w3/checkpoint.th.1", "checkpoint.th.1"}}, dir);
    const auto r = run_fsdpshard({"gather", dir.path(), "-o", dir.file("o.th"), "--from", "model"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("fit world size 3"), std::string::npos) << r.err;
  }
  {
    TempDir dir;  // a gap: rank 1 missing, rank 2 present
    copy_files({{"w3/checkpoint.th", "checkpoint.th"}, {"w3/checkpoint.th.2", "checkpoint.th.2"}}, dir);
    const auto r = run_fsdpshard({"gather", dir.path(), "-o", dir.file("o.th"), "--from", "model"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("checkpoint.th.1 is missing"), std::string::npos) << r.err;
  }
  {
    TempDir dir;  // world 2 plus a stray third file
    copy_files({{"w2/checkpoint.th", "checkpoint.th"}, {"w2/checkpoint.th.1", "checkpoint.th.1"},
                {"w3/checkpoint.th.2", "checkpoint.th.2"}},
               dir);
    const auto r = run_fsdpshard({"gather", dir.path(), "-o", dir.file("o.th"), "--from", "model"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("fit world size 2"), std::string::npos) << r.err;
  }
  // A rank-N file as input.
  TempDir dir;
  const auto r = run_fsdpshard({"gather", real_fsdp("w2/checkpoint.th.1"), "-o", dir.file("o.th"), "--from", "model"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is rank 1's file"), std::string::npos) << r.err;
}

TEST(FsdpGather, WrongWrapPolicyFailsTheLayoutCheck) {
  TempDir dir;
  // Everything in one root unit: the predicted pieces cannot match FSDP's.
  const auto r = run_fsdpshard({"gather", real_fsdp("w2"), "-o", dir.file("o.th"), "--from", "model",
                                "--fsdp-units", "nothing_matches\\."});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("the layout predicts"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fsdpshard::test
