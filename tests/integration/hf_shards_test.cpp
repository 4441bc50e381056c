// reshard --max-shard-size against huggingface_hub's own save_torch_state_dict on the same
// torch.save'd state dict: file names, index bytes, per-file tensors and metadata; tied
// weights dropped and recorded as huggingface_hub does, and brought back as shared
// storage by gather (torch 2.x venv: huggingface_hub, safetensors).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

struct HfCase {
  const char* state;                   // hf_shards.py make's CASE.pt
  const char* limit;                   // max_shard_size for both
  std::vector<std::string> metadata;   // KEY=VALUE for both
};

const HfCase kCases[] = {
    {"big_middle", "5KB", {}},         // tensors past the limit mid-order: alone, the open shard keeps filling
    {"big_middle", "0.0123 mb", {}},   // huggingface_hub's unit parsing (case, spaces, fractions)
    {"tied", "2KB", {}},               // tied module weights + a tensor under two names: counted once, dropped in safetensors
    {"tied", "5GB", {"author=fsdpshard test", "note=caf\xc3\xa9"}},  // one file: metadata in its header
    {"single", "5GB", {}},             // one file, no index
    {"names", "2KB", {"z_first=1", "a_second=\xc3\xa9\xe6\xbc\xa2", "author=me"}},  // escapes, metadata order
};

std::vector<std::string> metadata_args(const HfCase& c) {
  std::vector<std::string> args;
  for (const auto& kv : c.metadata) {
    args.push_back("--metadata");
    args.push_back(kv);
  }
  return args;
}

class HfShards : public ::testing::Test {
 protected:
  void SetUp() override {
    torch2_ = torch2_python();
    if (torch2_.empty()) return;
    const auto made = run_python2(torch2_, "hf_shards.py", {"make", dir_.file("cases")});
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  }
  std::string state(const HfCase& c) const { return dir_.file("cases/" + std::string(c.state) + ".pt"); }
  // huggingface_hub's output for each (case, format) job, each in a fresh folder `name`:
  // one interpreter for all of them.
  struct HfJob {
    HfCase c;
    std::string format;
    std::string name;
  };
  void hf_save(const std::vector<HfJob>& jobs) const {
    std::string json = "[";
    for (const HfJob& j : jobs) {
      std::string meta;
      for (const auto& kv : j.c.metadata) {
        const std::size_t eq = kv.find('=');  // the table's strings need no JSON escapes
        meta += (meta.empty() ? "\"" : ", \"") + kv.substr(0, eq) + "\": \"" + kv.substr(eq + 1) + "\"";
      }
      json += std::string(json.size() > 1 ? ", " : "") + "{\"state\": \"" + state(j.c) + "\", \"out\": \"" +
              dir_.file(j.name) + "\", \"limit\": \"" + j.c.limit + "\", \"format\": \"" + j.format +
              "\", \"metadata\": {" + meta + "}}";
    }
    write_file(dir_.file("jobs.json"), json + "]");
    const auto r = run_python2(torch2_, "hf_shards.py", {"save", dir_.file("jobs.json")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::string hf_save(const HfCase& c, const std::string& format, const std::string& name) const {
    hf_save({{c, format, name}});
    return dir_.file(name);
  }
  CommandResult reshard(const HfCase& c, const std::string& format, const std::string& out) const {
    std::vector<std::string> args{"reshard", state(c), "-o", out, "--max-shard-size", c.limit, "--format", format};
    for (const auto& a : metadata_args(c)) args.push_back(a);
    return run_fsdpshard(args);
  }
  TempDir dir_;
  std::string torch2_;
};

TEST_F(HfShards, SameFilesIndexBytesAndTensorsAsSaveTorchStateDict) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  std::vector<HfJob> jobs;
  std::vector<std::string> pairs{"compare"};
  for (const HfCase& c : kCases) {
    for (const std::string format : {"safetensors", "torch"}) {
      // huggingface_hub keeps no metadata for a lone pytorch_model.bin; fsdpshard refuses
      // to drop it (MetadataMistakesAreUsageErrors).
      if (format == "torch" && !c.metadata.empty() && std::string(c.limit) == "5GB") continue;
      const std::string tag = std::to_string(jobs.size());
      jobs.push_back({c, format, "hf" + tag});
      const auto r = reshard(c, format, dir_.file("ours" + tag));
      ASSERT_EQ(r.exit_code, 0) << c.state << " " << c.limit << " " << format << ": " << r.err;
      pairs.push_back(dir_.file("hf" + tag));
      pairs.push_back(dir_.file("ours" + tag));
    }
  }
  hf_save(jobs);
  const auto same = run_python2(torch2, "hf_shards.py", pairs);
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  std::size_t clean = 0;  // one "files compared, 0 problem(s)" line per pair
  for (std::size_t at = same.out.find(", 0 problem(s)"); at != std::string::npos;
       at = same.out.find(", 0 problem(s)", at + 1)) {
    ++clean;
  }
  EXPECT_EQ(clean, jobs.size()) << same.out;
}

TEST_F(HfShards, SummarySaysWhichTiedNamesWereDropped) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const auto r = reshard(kCases[2], "safetensors", dir_.file("st"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE((r.out + r.err).find("2 tied names dropped"), std::string::npos) << r.out << r.err;
  const auto dry = run_fsdpshard({"reshard", state(kCases[2]), "-o", dir_.file("dry"), "--max-shard-size", "2KB",
                                  "--format", "safetensors", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("tied: 'head.weight' dropped, shares 'emb.weight'"), std::string::npos) << dry.out;
  // Torch files keep the sharing: nothing dropped.
  const auto t = reshard(kCases[2], "torch", dir_.file("pt"));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ((t.out + t.err).find("tied"), std::string::npos) << t.out << t.err;
}

TEST_F(HfShards, GatherRestoresTiedWeightsAsSharedStorage) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const HfCase& sharded = kCases[2];
  const HfCase& single = kCases[3];
  // Our shard set, huggingface_hub's shard set, and both one-file folders (and the file).
  ASSERT_EQ(reshard(sharded, "safetensors", dir_.file("ours-sharded")).exit_code, 0);
  ASSERT_EQ(reshard(single, "safetensors", dir_.file("ours-single")).exit_code, 0);
  hf_save({{sharded, "safetensors", "hf-sharded"}, {single, "safetensors", "hf-single"}});
  const std::vector<std::string> inputs{
      dir_.file("ours-sharded"), dir_.file("ours-sharded/model.safetensors.index.json"), dir_.file("hf-sharded"),
      dir_.file("ours-single"),  dir_.file("ours-single/model.safetensors"),             dir_.file("hf-single/model.safetensors")};
  std::vector<std::string> check{"shared", state(sharded)};
  for (const std::string& input : inputs) {
    const std::string back = dir_.file("back" + std::to_string(check.size()) + ".pt");
    const auto g = run_fsdpshard({"gather", input, "-o", back, "--to", "state-dict", "-q"});
    ASSERT_EQ(g.exit_code, 0) << input << ": " << g.err;
    check.push_back(back);
  }
  const auto shared = run_python2(torch2, "hf_shards.py", check);
  EXPECT_EQ(shared.exit_code, 0) << shared.out << shared.err;
  EXPECT_NE(shared.out.find("shared groups [['emb.weight', 'head.weight'], ['x', 'x_again']]"), std::string::npos)
      << shared.out;
  // verify reads the dropped names back the same way: every output equals the original.
  for (const std::string& input : inputs) {
    const auto v = run_fsdpshard({"verify", state(sharded), input});
    EXPECT_EQ(v.exit_code, 0) << input << ": " << v.out << v.err;
  }
}

TEST_F(HfShards, OnlyTiedNameRecordsBecomeTensors) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const std::string back = dir_.file("odd.pt");
  const auto g = run_fsdpshard({"gather", dir_.file("cases/odd_metadata.safetensors"), "-o", back, "--to",
                                "state-dict", "-q"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const auto shared = run_python2(torch2, "hf_shards.py", {"shared", dir_.file("cases/odd_expected.pt"), back});
  EXPECT_EQ(shared.exit_code, 0) << shared.out << shared.err;
}

TEST_F(HfShards, GatherToSafetensorsDropsTiedNamesLikeHuggingFaceHub) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const HfCase one_file{"tied", "5GB", {}};
  const std::string hf = hf_save(one_file, "safetensors", "hf");
  const std::string ours = dir_.file("ours");
  ASSERT_EQ(run(std::vector<std::string>{"mkdir", ours}).exit_code, 0);
  const auto g = run_fsdpshard({"gather", state(one_file), "-o", ours + "/model.safetensors", "--to", "safetensors"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE((g.out + g.err).find("2 tied names dropped"), std::string::npos) << g.out << g.err;
  const auto same = run_python2(torch2, "hf_shards.py", {"compare", hf, ours});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
}

TEST_F(HfShards, LoadTorchModelReadsOurShardsAsItReadsItsOwn) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const HfCase& c = kCases[2];
  hf_save({{c, "safetensors", "hf-safetensors"}, {c, "torch", "hf-torch"}});
  for (const std::string format : {"safetensors", "torch"}) {
    SCOPED_TRACE(format);
    const std::string hf = dir_.file("hf-" + format);
    const std::string ours = dir_.file("ours-" + format);
    ASSERT_EQ(reshard(c, format, ours).exit_code, 0);
    // load_torch_model into the tied module: the same keys missing (the dropped tied
    // names, none for torch files) and every weight equal, for both outputs.
    const auto from_hf = run_python2(torch2, "hf_shards.py", {"load", hf, state(c)});
    const auto from_ours = run_python2(torch2, "hf_shards.py", {"load", ours, state(c)});
    EXPECT_EQ(from_hf.exit_code, 0) << from_hf.out << from_hf.err;
    EXPECT_EQ(from_ours.exit_code, 0) << from_ours.out << from_ours.err;
    EXPECT_EQ(from_ours.out, from_hf.out);
  }
}

TEST_F(HfShards, ReshapedViewOfATiedStorageIsRefusedInSafetensorsKeptInTorch) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const HfCase c{"reshaped_view", "5GB", {}};
  const auto st = reshard(c, "safetensors", dir_.file("st"));
  EXPECT_EQ(st.exit_code, 2) << st.err;
  EXPECT_NE(st.err.find("fsdpshard: error: "), std::string::npos) << st.err;
  EXPECT_NE(st.err.find("'x_2d' is a different view of the storage of 'x'"), std::string::npos) << st.err;
  const auto g = run_fsdpshard({"gather", state(c), "-o", dir_.file("one.safetensors"), "--to", "safetensors"});
  EXPECT_EQ(g.exit_code, 2) << g.err;
  EXPECT_EQ(list_dir(dir_.path()), std::vector<std::string>{"cases"});
  // Torch files hold views: the same output as huggingface_hub's, sharing kept.
  const std::string hf = hf_save(c, "torch", "hf");
  ASSERT_EQ(reshard(c, "torch", dir_.file("pt")).exit_code, 0);
  const auto same = run_python2(torch2, "hf_shards.py", {"compare", hf, dir_.file("pt")});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
}

TEST_F(HfShards, MetadataMistakesAreUsageErrors) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  const std::string in = state(kCases[4]);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--metadata", "novalue"}, {"--metadata", "=x"}, {"--metadata", "total_size=1"},
        {"--metadata", "format=np"}}) {
    std::vector<std::string> args{"reshard", in, "-o", dir_.file("x"), "--max-shard-size", "5GB"};
    args.insert(args.end(), bad.begin(), bad.end());
    const auto r = run_fsdpshard(args);
    EXPECT_EQ(r.exit_code, 2) << bad[1] << ": " << r.err;
    EXPECT_EQ(r.err.rfind("fsdpshard: error: ", 0), 0u) << r.err;
  }
  // One torch file has no index to carry metadata: refused rather than dropped.
  const auto lone = run_fsdpshard({"reshard", in, "-o", dir_.file("x"), "--max-shard-size", "5GB", "--metadata",
                                   "a=b"});
  EXPECT_EQ(lone.exit_code, 2) << lone.err;
  EXPECT_FALSE(file_exists(dir_.file("x")));
}

}  // namespace
}  // namespace fsdpshard::test
