// `fsdpshard inspect --json` against what torch.load sees (tests/python/describe_checkpoint.py,
// run when the fixtures were made), for torch 1.13 fixtures and torch 2.x goldens.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

using nlohmann::json;

json load_json(const std::string& path) { return json::parse(read_file(path)); }

// Compares `inspect --json --tensors --cfg` of `path` with the describe JSON `expected`.
void expect_inspect_matches(const std::string& path, const json& expected) {
  SCOPED_TRACE(path);
  const auto r = run_fsdpshard({"inspect", path, "--json", "--tensors", "--cfg"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json got = json::parse(r.out);
  EXPECT_EQ(got["layout"], expected["layout"]);

  ASSERT_EQ(got["top_level"].size(), expected["top_level"].size());
  for (std::size_t i = 0; i < got["top_level"].size(); ++i) {
    EXPECT_EQ(got["top_level"][i]["key"], expected["top_level"][i]["key"]);
    EXPECT_EQ(got["top_level"][i]["qualname"], expected["top_level"][i]["qualname"])
        << "key " << got["top_level"][i]["key"];
  }

  ASSERT_EQ(got["state_dicts"].size(), expected["state_dicts"].size()) << got["state_dicts"].dump();
  for (std::size_t i = 0; i < got["state_dicts"].size(); ++i) {
    for (const char* field : {"path", "tensors", "bytes", "dtypes"}) {
      EXPECT_EQ(got["state_dicts"][i][field], expected["state_dicts"][i][field]) << field;
    }
  }

  ASSERT_EQ(got["tensors"].size(), expected["tensors"].size());
  for (std::size_t i = 0; i < got["tensors"].size(); ++i) {
    for (const char* field : {"name", "source", "dtype", "shape", "bytes", "record"}) {
      EXPECT_EQ(got["tensors"][i][field], expected["tensors"][i][field])
          << field << " of " << got["tensors"][i]["name"];
    }
  }
  EXPECT_EQ(got["cfg"], expected["cfg"]);

  std::vector<std::string> got_globals, expected_globals;
  for (const auto& g : got["globals"]) got_globals.push_back(g["name"]);
  for (const auto& g : expected["globals"]) expected_globals.push_back(g["name"]);
  EXPECT_EQ(got_globals, expected_globals);
  for (const auto& g : got["globals"]) {
    // AudioCraft's omegaconf config is what makes weights_only=True refuse a training file.
    if (g["name"] == "omegaconf.dictconfig.DictConfig") EXPECT_FALSE(g["weights_only_safe"].get<bool>());
    if (g["name"] == "torch._utils._rebuild_tensor_v2") EXPECT_TRUE(g["weights_only_safe"].get<bool>());
  }
}

TEST(Inspect, AgreesWithTorchLoadOnEveryFixture) {
  const json manifest = load_json(fixture("manifest.json"));
  ASSERT_FALSE(manifest["fixtures"].empty());
  for (const auto& f : manifest["fixtures"]) {
    expect_inspect_matches(fixture(f["path"]), load_json(fixture(f["expected"])));
  }
}

TEST(Inspect, AgreesWithTorch2GoldenFiles) {
  const std::string golden = source_dir() + "/tests/fixtures/golden/";
  const json manifest = load_json(golden + "manifest.json");
  ASSERT_FALSE(manifest["fixtures"].empty());
  for (const auto& f : manifest["fixtures"]) {
    expect_inspect_matches(golden + f["path"].get<std::string>(),
                           load_json(golden + f["expected"].get<std::string>()));
  }
}

TEST(Inspect, BrokenFilesGiveOneClearLineAndExitTwo) {
  const json manifest = load_json(fixture("manifest.json"));
  ASSERT_FALSE(manifest["invalid"].empty());
  for (const auto& f : manifest["invalid"]) {
    const std::string path = fixture(f["path"]);
    SCOPED_TRACE(path + " (" + f["problem"].get<std::string>() + ")");
    const auto r = run_fsdpshard({"inspect", path});
    EXPECT_EQ(r.exit_code, f["expect_exit"].get<int>()) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("fsdpshard: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(path), std::string::npos) << "the message names the file: " << r.err;
  }
}

TEST(Inspect, HumanOutputNamesLayoutStateDictsAndUnsafeGlobals) {
  const auto r = run_fsdpshard({"inspect", fixture("fsdp/checkpoint.th")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("layout: fsdp-rank0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fsdp_best_state.model"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("omegaconf.dictconfig.DictConfig"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refused by torch.load(weights_only=True)"), std::string::npos) << r.out;
}

TEST(Inspect, MissingFileAndUnknownOptionAreUsageErrors) {
  EXPECT_EQ(run_fsdpshard({"inspect", "/nonexistent/ckpt.th"}).exit_code, 2);
  EXPECT_EQ(run_fsdpshard({"inspect", fixture("fsdp/checkpoint.th"), "--jsn"}).exit_code, 2);
  EXPECT_EQ(run_fsdpshard({"gathr"}).exit_code, 2);
}

}  // namespace
}  // namespace fsdpshard::test
