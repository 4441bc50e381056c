// reshard --world M on real FSDP per-rank files (tests/fixtures/fsdp/w2, w3; torch 2.x FSDP
// on CPU, see make_fsdp_fixtures.py). CI checks (torch 1.13): the new files gather back to
// FSDP's own full state dicts bitwise, the optimizer pieces to FSDP's full optimizer state,
// and 2 -> 3 -> 2 gives the original rank files back tensor for tensor. Where the torch 2.x
// virtualenv exists (launch/torch2-venv.sh; CI creates it), M ranks resume from the output and take one
// step, bitwise like a run that loads FSDP's full state and was never resharded.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

namespace fs = std::filesystem;

std::string real_fsdp(const std::string& name) { return source_dir() + "/tests/fixtures/fsdp/" + name; }

void reshard(const std::string& input, int world, const std::string& out, int ranks = 1) {
  const std::vector<std::string> args{"reshard", "--world", std::to_string(world), input, "-o", out, "-q"};
  const auto r = ranks == 1 ? run_fsdpshard(args) : run_fsdpshard_mpi(ranks, args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(file_exists(out + "/checkpoint.th." + std::to_string(world - 1)) || world == 1);
  EXPECT_FALSE(file_exists(out + "/checkpoint.th." + std::to_string(world)));
}

void expect_python_ok(const std::string& script, const std::vector<std::string>& args) {
  const auto r = run_python(script, args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

struct Case {
  const char* from;
  int world;
};

TEST(FsdpReshard, NewRankFilesGatherToTheFullStateAndOptimizer) {
  TempDir dir;
  for (const Case& c : {Case{"w2", 3}, Case{"w3", 2}, Case{"w2", 1}, Case{"w3", 4}}) {
    SCOPED_TRACE(std::string(c.from) + " -> " + std::to_string(c.world));
    const std::string out = dir.file(std::string(c.from) + "_to_" + std::to_string(c.world));
    reshard(real_fsdp(c.from), c.world, out);
    for (const auto& [from, reference, key] :
         {std::tuple<std::string, std::string, std::string>{"model", "full_model.th", ""},
          {"ema.state.model", "full_ema.th", ""},
          {"best_state.model", "checkpoint.th", "fsdp_best_state.model"}}) {
      // gather checks the new files' pieces against the layout for c.world on the way.
      const std::string gathered = out + "_" + from + ".th";
      const auto g = run_fsdpshard({"gather", out, "-o", gathered, "--from", from, "--to", "state-dict", "-q"});
      ASSERT_EQ(g.exit_code, 0) << g.err;
      std::vector<std::string> args{gathered, real_fsdp(std::string(c.from) + "/" + reference)};
      if (!key.empty()) args.insert(args.end(), {"--key-b", key});
      expect_python_ok("compare_state_dicts.py", args);
    }
    expect_python_ok("check_fsdp_ranks.py", {"optim", out, real_fsdp(std::string(c.from) + "/full_optim.th")});
  }
}

TEST(FsdpReshard, RoundTripGivesTheOriginalRankFilesBack) {
  TempDir dir;
  // 2 -> 3 -> 2 and 3 -> 2 -> 3, the second hop written by 2 ranks under mpirun.
  for (const auto& [from, world, back] : {std::tuple<std::string, int, int>{"w2", 3, 2}, {"w3", 2, 3}}) {
    SCOPED_TRACE(from);
    const std::string mid = dir.file(from + "_mid"), end = dir.file(from + "_back");
    reshard(real_fsdp(from), world, mid);
    reshard(mid, back, end, 2);
    // Every entry of every rank file: tensors bitwise, model views at FSDP's offsets.
    expect_python_ok("check_fsdp_ranks.py", {"same", end, real_fsdp(from)});
  }
}

TEST(FsdpReshard, CfgEditsApplyToEveryRankFile) {
  TempDir dir;
  const std::string out = dir.file("o");
  const auto r = run_fsdpshard({"reshard", "--world", "3", real_fsdp("w2/checkpoint.th"), "-o", out, "-q", "--set",
                                "optim.lr=0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"checkpoint.th", "checkpoint.th.1", "checkpoint.th.2"}) {
    const auto cfg = run_fsdpshard({"cfg", out + "/" + name});
    ASSERT_EQ(cfg.exit_code, 0) << cfg.err;
    EXPECT_NE(cfg.out.find("lr: 0.5"), std::string::npos) << name << "\n" << cfg.out;
  }
}

TEST(FsdpReshard, BadRequestsAreClearErrors) {
  TempDir dir;
  auto fails = [&](const std::vector<std::string>& args, const std::string& message) {
    const auto r = run_fsdpshard(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_FALSE(file_exists(dir.file("o")));
  };
  fails({"reshard", "--world", "3", "--shards", "2", real_fsdp("w2"), "-o", dir.file("o")}, "excludes");
  fails({"reshard", "--world", "3", "--dtype", "float16", real_fsdp("w2"), "-o", dir.file("o")}, "do not apply");
  // The layout self-check on the input: a wrong wrap policy, a missing rank file.
  fails({"reshard", "--world", "3", real_fsdp("w2"), "-o", dir.file("o"), "--fsdp-units", "nothing\\."},
        "the layout predicts");
  TempDir partial;
  fs::copy_file(real_fsdp("w3/checkpoint.th"), partial.file("checkpoint.th"));
  fs::copy_file(real_fsdp("w3/checkpoint.th.1"), partial.file("checkpoint.th.1"));
  fails({"reshard", "--world", "2", partial.path(), "-o", dir.file("o")}, "fit world size 3");
}

// The generator's own resume: torch 2.x FSDP on M gloo ranks loads the resharded files the
// AudioCraft way and steps; the reference loads FSDP's full state at M ranks and steps.
TEST(FsdpReshard, ResumeOnTheNewWorldSizeMatchesANeverReshardedRun) {
  FSDPSHARD_REQUIRE_TORCH2(venv);
  const std::string generator = real_fsdp("make_fsdp_fixtures.py");
  TempDir dir;
  for (const auto& [from, world] : {std::pair<std::string, int>{"w2", 3}, {"w3", 2}}) {
    SCOPED_TRACE(from + " -> " + std::to_string(world));
    const std::string out = dir.file(from + "_ranks");
    reshard(real_fsdp(from), world, out);
    const std::string m = std::to_string(world);
    const auto resumed = run({venv, generator, "resume", "--world", m, "--ckpt", out, "--out", out + ".res"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto full = run({venv, generator, "resume-full", "--world", m, "--full", real_fsdp(from), "--out",
                           out + ".full"});
    ASSERT_EQ(full.exit_code, 0) << full.err;
    const auto cmp = run({venv, source_dir() + "/tests/python/compare_resume.py", out + ".res", out + ".full"});
    EXPECT_EQ(cmp.exit_code, 0) << cmp.out << cmp.err;
    std::printf("[ resume %s -> %d ] %s", from.c_str(), world, cmp.out.c_str());
  }
}

}  // namespace
}  // namespace fsdpshard::test
