// `fsdpshard cfg`: printing and editing xp.cfg, checked with real torch.load + omegaconf.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

TEST(CfgCommand, PrintsTheSameYamlAsOmegaConf) {
  for (const char* name : {"training/checkpoint.th", "fsdp/checkpoint.th", "exported/state_dict.bin"}) {
    const auto r = run_fsdpshard({"cfg", fixture(name)});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    const auto expected = run_python("print_cfg.py", {fixture(name)});
    ASSERT_EQ(expected.exit_code, 0) << expected.err;
    EXPECT_EQ(r.out, expected.out) << name;
  }
}

TEST(CfgCommand, EditsKeepDictConfigAndEverythingElse) {
  TempDir dir;
  write_file(dir.file("extra.yaml"), "optim:\n  ema: {decay: 0.99}\nnew_section:\n  a: [1, 2]\n");
  const std::string out = dir.file("edited.th");
  const std::vector<std::string> edits{"--set", "optim.lr=1e-5", "--set", "optim.epochs=50", "--set",
                                       "dataset.train.path=/data/ft", "--set", "brand.new.key=[1, x, {a: 2}]",
                                       "--set", "flag=true", "--set", "nothing=null",
                                       "--unset", "dataset.valid", "--merge", dir.file("extra.yaml")};
  std::vector<std::string> args{"cfg", fixture("training/checkpoint.th"), "-o", out};
  args.insert(args.end(), edits.begin(), edits.end());
  const auto r = run_fsdpshard(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> check{fixture("training/checkpoint.th"), out};
  check.insert(check.end(), edits.begin(), edits.end());
  const auto c = run_python("cfg_check.py", check);
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
}

TEST(CfgCommand, YamlFormatLoadsWithWeightsOnlyWhenNothingElseNeedsPickles) {
  TempDir dir;
  const std::string out = dir.file("e.bin");
  const auto r = run_fsdpshard({"cfg", fixture("exported/state_dict.bin"), "-o", out, "--set", "optim.lr=3e-4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto c = run_python("cfg_check.py", {fixture("exported/state_dict.bin"), out, "--set", "optim.lr=3e-4",
                                             "--expect-type", "str"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_EQ(run_python("load_weights_only.py", {out}).exit_code, 0);

  const std::string as_yaml = dir.file("t.th");
  const auto y = run_fsdpshard({"cfg", fixture("training/checkpoint.th"), "-o", as_yaml, "--cfg-format", "yaml"});
  ASSERT_EQ(y.exit_code, 0) << y.err;
  const auto cy = run_python("cfg_check.py", {fixture("training/checkpoint.th"), as_yaml, "--expect-type", "str"});
  EXPECT_EQ(cy.exit_code, 0) << cy.out << cy.err;
  // The whole training file then loads with weights_only=True; torch 1.13's weights-only
  // loader lacks BINFLOAT (the history's floats), so torch 2.x says it.
  FSDPSHARD_REQUIRE_TORCH2(venv);
  const auto safe = run_python2(venv, "load_weights_only.py", {as_yaml});
  EXPECT_EQ(safe.exit_code, 0) << safe.out << safe.err;
}

TEST(CfgCommand, InPlaceReplacesAtomicallyAndRefusesOverwritingWithoutForce) {
  TempDir dir;
  const std::string copy = dir.file("ckpt.th");
  write_file(copy, read_file(fixture("training/checkpoint.th")));
  // -o pointing at the input is refused without --in-place.
  auto same = run_fsdpshard({"cfg", copy, "-o", copy, "--set", "optim.lr=1"});
  EXPECT_EQ(same.exit_code, 2);
  const auto r = run_fsdpshard({"cfg", copy, "--in-place", "--set", "optim.lr=0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto c = run_python("cfg_check.py", {fixture("training/checkpoint.th"), copy, "--set", "optim.lr=0.5"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"ckpt.th"});

  write_file(dir.file("taken.th"), "keep me");
  auto taken = run_fsdpshard({"cfg", copy, "-o", dir.file("taken.th"), "--set", "a=1"});
  EXPECT_EQ(taken.exit_code, 2);
  EXPECT_EQ(read_file(dir.file("taken.th")), "keep me");
}

// cfg prints xp.cfg from every input the front door opens, and writes only torch.save
// files (it keeps every record of the input's archive but data.pkl): for a safetensors
// file or a shard set it says which commands write those with an edited xp.cfg.
TEST(CfgCommand, PrintsFromEveryInputAndWritesOnlyTorchFiles) {
  TempDir dir;
  const std::string single = dir.file("m.safetensors"), shards = dir.file("shards");
  ASSERT_EQ(run_fsdpshard({"gather", fixture("training/checkpoint.th"), "-o", single, "--to", "safetensors"}).exit_code, 0);
  ASSERT_EQ(run_fsdpshard({"reshard", fixture("training/checkpoint.th"), "-o", shards, "--shards", "2"}).exit_code, 0);
  const auto expected = run_fsdpshard({"cfg", fixture("training/checkpoint.th")});
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  for (const std::string& input : {single, shards}) {
    const auto printed = run_fsdpshard({"cfg", input});
    ASSERT_EQ(printed.exit_code, 0) << input << ": " << printed.err;
    EXPECT_EQ(printed.out, expected.out) << input;
    const std::string out = dir.file("edited.th");
    const auto written = run_fsdpshard({"cfg", input, "-o", out, "--set", "optim.lr=1"});
    EXPECT_EQ(written.exit_code, 2) << input;
    EXPECT_NE(written.err.find("cfg -o / --in-place rewrites a torch.save file"), std::string::npos) << written.err;
    EXPECT_NE(written.err.find("gather --to safetensors or reshard"), std::string::npos) << written.err;
    EXPECT_FALSE(std::filesystem::exists(out)) << input;
  }
}

TEST(CfgCommand, BadEditsGiveOneLineExitTwoAndWriteNothing) {
  TempDir dir;
  write_file(dir.file("bad.yaml"), "a: [1, 2\nb: }\n");
  const std::vector<std::vector<std::string>> cases{
      {"--set", "optim.lr.sub=1"},          // through a non-mapping (optim.lr is a float)
      {"--set", "no_equals_sign"},          // malformed K=V
      {"--set", "=3"},                      // empty key
      {"--merge", dir.file("bad.yaml")},    // bad YAML
  };
  for (const auto& edit : cases) {
    std::vector<std::string> args{"cfg", fixture("training/checkpoint.th"), "-o", dir.file("out.th")};
    args.insert(args.end(), edit.begin(), edit.end());
    const auto r = run_fsdpshard(args);
    EXPECT_EQ(r.exit_code, 2) << edit[1] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(file_exists(dir.file("out.th")));
  }
  const auto no_cfg = run_fsdpshard({"cfg", fixture("musicgen_state_dict.pt"), "-o", dir.file("out.th"),
                                     "--set", "a=1"});
  EXPECT_EQ(no_cfg.exit_code, 2);
  EXPECT_NE(no_cfg.err.find("xp.cfg"), std::string::npos) << no_cfg.err;
  EXPECT_TRUE(list_dir(dir.path()) == std::vector<std::string>{"bad.yaml"});
}

}  // namespace
}  // namespace fsdpshard::test
