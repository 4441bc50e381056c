// No output ever carries code (issue 18). tests/python/make_payloads.py writes AudioCraft
// checkpoints (from the torch 1.13 fixtures, by torch.save) with a real
// posix.system('touch MARKER') call in every place a hostile file could hide one; every
// command and output format must then either refuse (exit 2, one error line naming where
// the payload sits, no output at all) or write an output that carries nothing of it:
// tests/python/check_output_safety.py lists its globals, loads it with
// torch.load(weights_only=False) (and weights_only=True where the format promises it),
// and the marker file must never appear.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class OutputSafety : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto made = run({python(), source_dir() + "/tests/python/make_payloads.py", dir_->file("payloads"),
                           fixture_dir(), marker()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    ASSERT_FALSE(file_exists(marker())) << "writing the payloads ran one";
  }
  static void TearDownTestSuite() { delete dir_; }
  void TearDown() override { EXPECT_FALSE(file_exists(marker())) << "a payload ran"; }

  static std::string marker() { return dir_->file("MARKER"); }
  static std::string payload(const std::string& name) { return dir_->file("payloads/" + name + ".th"); }
  static std::string fsdp_case(const std::string& name) { return dir_->file("payloads/fsdp_" + name + "/checkpoint.th"); }

  // Exit 2, one "fsdpshard: error: " line holding `needle`, nothing at `out`. (Under
  // mpirun, Open MPI adds its own lines after ours.)
  static void expect_refused(const CommandResult& r, const std::string& out, const std::string& needle,
                             bool mpi = false) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("fsdpshard: error: ", 0), 0u) << r.err;
    const std::string first_line = r.err.substr(0, r.err.find('\n'));
    if (!mpi) EXPECT_EQ(first_line.size(), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_NE(first_line.find(needle), std::string::npos) << "expected '" << needle << "' in: " << r.err;
    EXPECT_FALSE(fs::exists(out)) << out << " was written";
    if (fs::exists(out + ".tmp")) ADD_FAILURE() << "a temporary output was left";
  }

  // Exit 0, and the output (file or folder) is clean and loads without running anything.
  static void expect_clean(const CommandResult& r, const std::string& out, bool weights_only) {
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> args{marker()};
    if (weights_only) args.push_back("--weights-only");
    args.push_back(out);
    const auto checked = run_python("check_output_safety.py", args);
    EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  }

  // Copies `file` so that --in-place can be tried on it; returns the copy.
  static std::string copy_of(const std::string& file, const TempDir& tmp) {
    const std::string copy = tmp.file(fs::path(file).filename().string());
    fs::copy_file(file, copy, fs::copy_options::overwrite_existing);
    return copy;
  }

  static TempDir* dir_;
};

TempDir* OutputSafety::dir_ = nullptr;

// Every command that writes a torch.save or safetensors output, on `input`, into `tmp`.
struct Writer {
  std::string name;
  std::vector<std::string> args;  // "IN" and "OUT" are replaced
};
std::vector<Writer> every_writer() {
  return {{"gather training", {"gather", "IN", "-o", "OUT"}},
          {"gather export", {"gather", "IN", "-o", "OUT", "--to", "export"}},
          {"gather state-dict", {"gather", "IN", "-o", "OUT", "--to", "state-dict"}},
          {"gather safetensors", {"gather", "IN", "-o", "OUT", "--to", "safetensors"}},
          {"reshard torch", {"reshard", "IN", "-o", "OUT", "--shards", "2"}},
          {"reshard safetensors", {"reshard", "IN", "-o", "OUT", "--shards", "2", "--format", "safetensors"}},
          {"cfg -o", {"cfg", "IN", "-o", "OUT", "--set", "optim.lr=1"}}};
}
std::vector<std::string> with(const Writer& w, const std::string& in, const std::string& out) {
  std::vector<std::string> args;
  for (const auto& a : w.args) args.push_back(a == "IN" ? in : a == "OUT" ? out : a);
  return args;
}

TEST_F(OutputSafety, IrregularTensorRebuildCallsAreRefusedByEveryCommand) {
  // Refused, not repaired: the file was crafted, and the user should know.
  const std::vector<std::pair<std::string, std::string>> cases{
      {"hooks", "backward_hooks is a call of posix.system"},
      {"param_hooks", "nn.Parameter's backward_hooks is a call of posix.system"},
      {"extra_arg", "the metadata argument is an int, not a dict of str -> bool"},
      {"build_state", "the tensor receives a BUILD state"}};
  for (const auto& [name, problem] : cases) {
    for (const Writer& w : every_writer()) {
      SCOPED_TRACE(name + ": " + w.name);
      TempDir tmp;
      const std::string out = tmp.file("out.th");
      const auto r = run_fsdpshard(with(w, payload(name), out));
      expect_refused(r, out, problem);
      EXPECT_NE(r.err.find("tensor best_state['model']['"), std::string::npos) << "names the tensor: " << r.err;
    }
    TempDir tmp;
    const std::string copy = copy_of(payload(name), tmp);
    const std::string before = read_file(copy);
    const auto r = run_fsdpshard({"cfg", copy, "--in-place", "--set", "optim.lr=1"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(read_file(copy), before) << "--in-place changed a refused file";
  }
}

TEST_F(OutputSafety, GlobalsThatCanRunCodeAreRefusedWhereTheOutputWouldCarryThem) {
  struct Case {
    std::string file;
    std::vector<std::string> extra;  // gather options that carry the payload
    std::string where;               // path: global, as the message names it
  };
  const std::vector<Case> cases{
      {"history", {"--keep", "history"}, "history[3]['x']: posix.system"},
      {"top_level", {"--keep", "evil"}, "evil: posix.system"},
      {"dict_key", {"--keep", "meta"}, "meta.keys()[0]: posix.system"},
      {"optimizer", {"--keep", "optimizer"}, "optimizer['state'][0]['step']: posix.system"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    TempDir tmp;
    const std::string out = tmp.file("out.th");
    std::vector<std::string> args{"gather", payload(c.file), "-o", out};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    expect_refused(run_fsdpshard(args), out, c.where);
    // cfg re-writes the whole file: the payload would go along.
    expect_refused(run_fsdpshard({"cfg", payload(c.file), "-o", out, "--set", "optim.lr=1"}), out, c.where);
    const std::string copy = copy_of(payload(c.file), tmp);
    const std::string before = read_file(copy);
    const auto in_place = run_fsdpshard({"cfg", copy, "--in-place", "--set", "optim.lr=1"});
    EXPECT_EQ(in_place.exit_code, 2) << in_place.err;
    EXPECT_NE(in_place.err.find(c.where), std::string::npos) << in_place.err;
    EXPECT_EQ(read_file(copy), before);
  }
  // Two ranks plan alike and both refuse before either writes.
  TempDir tmp;
  const std::string out = tmp.file("out.th");
  expect_refused(run_fsdpshard_mpi(2, {"gather", payload("history"), "-o", out, "--keep", "history"}), out,
                 "history[3]['x']: posix.system", true);
}

TEST_F(OutputSafety, PayloadInTheConfigIsNeverWritten) {
  // xp.cfg is a DictConfig holding a posix.system node. Outputs that keep the DictConfig
  // refuse; those that store xp.cfg as YAML text (export, safetensors, shard sets) or none
  // (state-dict) carry no pickle of it and load without running anything.
  TempDir tmp;
  const std::string where = "xp.cfg.state['_content']['evil'].state['_val']: posix.system";
  expect_refused(run_fsdpshard({"gather", payload("cfg_content"), "-o", tmp.file("t.th")}), tmp.file("t.th"), where);
  expect_refused(run_fsdpshard({"cfg", payload("cfg_content"), "-o", tmp.file("c.th"), "--set", "optim.lr=1"}),
                 tmp.file("c.th"), where);
  expect_refused(run_fsdpshard({"cfg", payload("cfg_content"), "-o", tmp.file("c.th"), "--cfg-format", "dictconfig"}),
                 tmp.file("c.th"), where);
  expect_clean(run_fsdpshard({"gather", payload("cfg_content"), "-o", tmp.file("e.th"), "--to", "export"}),
               tmp.file("e.th"), true);
  expect_clean(run_fsdpshard({"gather", payload("cfg_content"), "-o", tmp.file("s.th"), "--to", "state-dict"}),
               tmp.file("s.th"), true);
  expect_clean(run_fsdpshard({"reshard", payload("cfg_content"), "-o", tmp.file("shards"), "--shards", "2"}),
               tmp.file("shards"), true);
  expect_clean(run_fsdpshard({"cfg", payload("cfg_content"), "-o", tmp.file("y.th"), "--cfg-format", "yaml"}),
               tmp.file("y.th"), false);
  const auto st = run_fsdpshard({"gather", payload("cfg_content"), "-o", tmp.file("m.safetensors"), "--to",
                                 "safetensors"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
}

TEST_F(OutputSafety, OutputsThatLeaveThePayloadBehindLoadWithoutRunningIt) {
  for (const std::string name : {"history", "top_level", "dict_key", "optimizer", "clean"}) {
    SCOPED_TRACE(name);
    TempDir tmp;
    expect_clean(run_fsdpshard({"gather", payload(name), "-o", tmp.file("train.th")}), tmp.file("train.th"), false);
    expect_clean(run_fsdpshard({"gather", payload(name), "-o", tmp.file("export.th"), "--to", "export"}),
                 tmp.file("export.th"), true);
    expect_clean(run_fsdpshard({"gather", payload(name), "-o", tmp.file("sd.th"), "--to", "state-dict"}),
                 tmp.file("sd.th"), true);
    expect_clean(run_fsdpshard({"reshard", payload(name), "-o", tmp.file("shards"), "--shards", "2"}),
                 tmp.file("shards"), true);
    const auto st = run_fsdpshard({"gather", payload(name), "-o", tmp.file("m.safetensors"), "--to", "safetensors"});
    EXPECT_EQ(st.exit_code, 0) << st.err;
    const auto sts = run_fsdpshard({"reshard", payload(name), "-o", tmp.file("st"), "--shards", "2", "--format",
                                    "safetensors"});
    EXPECT_EQ(sts.exit_code, 0) << sts.err;
  }
  TempDir tmp;
  expect_clean(run_fsdpshard_mpi(2, {"gather", payload("history"), "-o", tmp.file("export.th"), "--to", "export"}),
               tmp.file("export.th"), true);
  expect_clean(run_fsdpshard_mpi(2, {"reshard", payload("top_level"), "-o", tmp.file("shards"), "--shards", "2"}),
               tmp.file("shards"), true);
}

TEST_F(OutputSafety, AllowGlobalWritesOnlyTheNamedGlobal) {
  TempDir tmp;
  const std::string out = tmp.file("out.th");
  // A different name does not open the gate.
  expect_refused(run_fsdpshard({"gather", payload("history"), "-o", out, "--keep", "history", "--allow-global",
                                "os.system"}),
                 out, "history[3]['x']: posix.system");
  const auto r = run_fsdpshard({"gather", payload("history"), "-o", out, "--keep", "history", "--allow-global",
                                "posix.system"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The output does carry it now (not loaded here: it would run); the scan says so.
  const auto scan = run_fsdpshard({"inspect", out, "--scan"});
  EXPECT_EQ(scan.exit_code, 1) << scan.out << scan.err;
  EXPECT_NE(scan.out.find("posix.system"), std::string::npos) << scan.out;
  EXPECT_NE(scan.out.find("history[3]['x']"), std::string::npos) << scan.out;
  const auto bad = run_fsdpshard({"gather", payload("history"), "-o", tmp.file("x.th"), "--allow-global", "system"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

TEST_F(OutputSafety, StorageArgumentPayloadIsUnreadableButScansAsUnsafe) {
  for (const Writer& w : every_writer()) {
    SCOPED_TRACE(w.name);
    TempDir tmp;
    const std::string out = tmp.file("out.th");
    expect_refused(run_fsdpshard(with(w, payload("storage_arg"), out)), out, "storage is not a persistent id");
  }
  const auto scan = run_fsdpshard({"inspect", payload("storage_arg"), "--scan"});
  EXPECT_EQ(scan.exit_code, 1) << scan.out << scan.err;
  EXPECT_NE(scan.out.find("posix.system"), std::string::npos) << scan.out;
}

TEST_F(OutputSafety, FsdpRankFilePayloads) {
  {
    SCOPED_TRACE("rank 0 history");
    TempDir tmp;
    // The gathered best state leaves history behind: clean.
    expect_clean(run_fsdpshard({"gather", fsdp_case("rank0_history"), "-o", tmp.file("g.th")}), tmp.file("g.th"),
                 false);
    expect_refused(run_fsdpshard({"gather", fsdp_case("rank0_history"), "-o", tmp.file("k.th"), "--keep", "history"}),
                   tmp.file("k.th"), "history[0]['x']: posix.system");
    // Rank files for another world size keep everything else of rank 0: refused, on 1 and 2 ranks.
    expect_refused(run_fsdpshard({"reshard", fsdp_case("rank0_history"), "-o", tmp.file("w"), "--world", "2"}),
                   tmp.file("w"), "history[0]['x']: posix.system");
    expect_refused(run_fsdpshard_mpi(2, {"reshard", fsdp_case("rank0_history"), "-o", tmp.file("w"), "--world", "2"}),
                   tmp.file("w"), "history[0]['x']: posix.system", true);
  }
  {
    SCOPED_TRACE("rank 1 hooks");
    TempDir tmp;
    const std::string rank1 = fsdp_case("rank1_hooks") + ".1";
    expect_refused(run_fsdpshard({"gather", fsdp_case("rank1_hooks"), "-o", tmp.file("m.th"), "--from", "model"}),
                   tmp.file("m.th"), rank1 + ": tensor model['");
    expect_refused(run_fsdpshard_mpi(2, {"reshard", fsdp_case("rank1_hooks"), "-o", tmp.file("w"), "--world", "2"}),
                   tmp.file("w"), rank1 + ": tensor model['", true);
    // The default gather reads rank 0's fsdp_best_state only.
    expect_clean(run_fsdpshard({"gather", fsdp_case("rank1_hooks"), "-o", tmp.file("g.th")}), tmp.file("g.th"), false);
  }
  {
    SCOPED_TRACE("rank 1 top-level entry");
    TempDir tmp;
    // No output is made of rank 1's other entries: written, clean.
    expect_clean(run_fsdpshard({"reshard", fsdp_case("rank1_top"), "-o", tmp.file("w"), "--world", "2"}),
                 tmp.file("w"), false);
    expect_clean(run_fsdpshard_mpi(2, {"gather", fsdp_case("rank1_top"), "-o", tmp.file("m.th"), "--from", "model",
                                       "--to", "export"}),
                 tmp.file("m.th"), true);
    const auto scan = run_fsdpshard({"inspect", fsdp_case("rank1_top") + ".1", "--scan"});
    EXPECT_EQ(scan.exit_code, 1) << scan.out << scan.err;
    EXPECT_NE(scan.out.find("evil"), std::string::npos) << scan.out;
  }
}

TEST_F(OutputSafety, ShardOfAShardSetWithAPayload) {
  TempDir tmp;
  const std::string shards = tmp.file("shards");
  ASSERT_EQ(run_fsdpshard({"reshard", payload("clean"), "-o", shards, "--shards", "2"}).exit_code, 0);
  const std::string shard = shards + "/pytorch_model-00002-of-00002.bin";
  ASSERT_TRUE(file_exists(shard));
  const auto patched = run({python(), source_dir() + "/tests/python/make_payloads.py", "--shard", shard, marker()});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;
  expect_refused(run_fsdpshard({"gather", shards, "-o", tmp.file("g.th"), "--to", "state-dict"}), tmp.file("g.th"),
                 "pytorch_model-00002-of-00002.bin: tensor ");
  expect_refused(run_fsdpshard_mpi(2, {"reshard", shards, "-o", tmp.file("r"), "--shards", "3"}), tmp.file("r"),
                 "backward_hooks is a call of posix.system", true);
  const auto scan = run_fsdpshard({"inspect", shards, "--scan"});
  EXPECT_EQ(scan.exit_code, 1) << scan.out << scan.err;
  EXPECT_NE(scan.out.find("pytorch_model-00002-of-00002.bin: "), std::string::npos) << scan.out;
}

TEST_F(OutputSafety, ScanExitCodesAndJson) {
  // Real AudioCraft files, torch 1.13 fixtures and torch 2.x goldens: clean.
  const std::string golden = source_dir() + "/tests/fixtures/golden/";
  for (const std::string& clean :
       {fixture("training/checkpoint.th"), fixture("fsdp/checkpoint.th"), fixture("fsdp/checkpoint.th.1"),
        golden + "training/checkpoint.th", golden + "fsdp/checkpoint.th", golden + "exported/state_dict.bin",
        golden + "new_dtypes.pt", payload("clean")}) {
    const auto r = run_fsdpshard({"inspect", clean, "--scan"});
    EXPECT_EQ(r.exit_code, 0) << clean << ": " << r.out << r.err;
  }
  for (const std::string name : {"hooks", "param_hooks", "top_level", "history", "dict_key", "cfg_content",
                                 "optimizer", "extra_arg", "build_state"}) {
    const auto r = run_fsdpshard({"inspect", payload(name), "--scan"});
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.out << r.err;
    EXPECT_NE(r.out.find("UNSAFE"), std::string::npos) << r.out;
  }
  TempDir tmp;
  write_file(tmp.file("junk.th"), "not a zip");
  EXPECT_EQ(run_fsdpshard({"inspect", tmp.file("junk.th"), "--scan"}).exit_code, 2);

  const auto j = run_fsdpshard({"inspect", payload("history"), "--json", "--scan"});
  EXPECT_EQ(j.exit_code, 1) << j.err;
  const json report = json::parse(j.out);
  EXPECT_TRUE(report["can_run_code"].get<bool>());
  bool found = false;
  for (const auto& g : report["globals"]) {
    if (g["name"] == "posix.system") {
      found = true;
      EXPECT_EQ(g["verdict"], "can-run-code");
      EXPECT_EQ(g["paths"][0], "history[3]['x']");
    }
    if (g["name"] == "omegaconf.dictconfig.DictConfig") EXPECT_EQ(g["verdict"], "allowed-by-fsdpshard");
    if (g["name"] == "torch._utils._rebuild_tensor_v2") EXPECT_EQ(g["verdict"], "weights-only-safe");
  }
  EXPECT_TRUE(found) << j.out;
  const auto irregular = json::parse(run_fsdpshard({"inspect", payload("extra_arg"), "--json"}).out);
  ASSERT_EQ(irregular["irregular_tensors"].size(), 1u) << irregular.dump();
  EXPECT_EQ(irregular["irregular_tensors"][0]["path"].get<std::string>().rfind("best_state['model']['", 0), 0u);
}

TEST_F(OutputSafety, RealCheckpointsPassWithoutAnyOption) {
  const std::string golden = source_dir() + "/tests/fixtures/golden/";
  TempDir tmp;
  int n = 0;
  auto ok = [&](std::vector<std::string> args) {
    const std::string out = tmp.file("out" + std::to_string(n++));
    args.insert(args.begin() + 2, {"-o", out});
    const auto r = run_fsdpshard(args);
    EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    return out;
  };
  for (const std::string& training : {fixture("training/checkpoint.th"), golden + "training/checkpoint.th"}) {
    ok({"gather", training, "--keep", "history", "--keep", "xp.sig", "--from", "model"});
    ok({"gather", training, "--from", "ema.state.model"});
    ok({"gather", training, "--to", "export"});
    ok({"reshard", training, "--shards", "2"});
  }
  for (const std::string& fsdp : {fixture("fsdp/checkpoint.th"), golden + "fsdp/checkpoint.th"}) {
    ok({"gather", fsdp, "--keep", "history"});
  }
  // (cfg -o refuses torch 2.x archives for their '.format_version' record, before this gate.)
  ok({"cfg", fixture("training/checkpoint.th"), "--set", "optim.lr=1"});
  ok({"cfg", fixture("fsdp/checkpoint.th"), "--set", "optim.lr=1"});
  ok({"cfg", fixture("fsdp/checkpoint.th.1"), "--set", "optim.lr=1"});
  ok({"reshard", fixture("fsdp/checkpoint.th"), "--world", "2"});
  ok({"gather", fixture("fsdp/checkpoint.th"), "--from", "model"});
  ok({"gather", golden + "exported/state_dict.bin"});
  ok({"gather", golden + "new_dtypes.pt", "--to", "state-dict"});
}

TEST_F(OutputSafety, RewrittenTensorsAreAFixedPoint) {
  // Every output tensor is written from its values in torch.save's own form, so writing an
  // output again changes nothing: _rebuild_tensor_v2 (torch 1.13 and 2.x), nn.Parameter,
  // _rebuild_tensor_v3 with UntypedStorage (new_dtypes), whole files through cfg.
  const std::string golden = source_dir() + "/tests/fixtures/golden/";
  const std::string same_pickle =
      "import sys, zipfile\n"
      "def pkl(p):\n"
      "    z = zipfile.ZipFile(p)\n"
      "    return z.read(next(n for n in z.namelist() if n.endswith('/data.pkl')))\n"
      "a, b = pkl(sys.argv[1]), pkl(sys.argv[2])\n"
      "sys.exit(0 if a == b else 'data.pkl differs: %d vs %d bytes' % (len(a), len(b)))\n";
  TempDir tmp;
  const std::string out1 = tmp.file("out1.th"), out2 = tmp.file("out2.th");
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
      {fixture("training/checkpoint.th"), {"cfg", "IN", "-o", "OUT"}},
      {fixture("fsdp/checkpoint.th"), {"cfg", "IN", "-o", "OUT"}},
      {golden + "training/checkpoint.th", {"gather", "IN", "-o", "OUT", "--from", "model", "--to", "state-dict"}},
      {golden + "fsdp/checkpoint.th", {"gather", "IN", "-o", "OUT", "--to", "export"}},
      {golden + "new_dtypes.pt", {"gather", "IN", "-o", "OUT", "--to", "state-dict"}},
      {fixture("state_dict_views.pt"), {"gather", "IN", "-o", "OUT", "--to", "state-dict"}},  // torch 1.13 Parameter
  };
  for (const auto& [input, command] : cases) {
    SCOPED_TRACE(input);
    auto args = [&](const std::string& in, const std::string& out) {
      std::vector<std::string> a;
      for (const auto& x : command) a.push_back(x == "IN" ? in : x == "OUT" ? out : x);
      a.push_back("--force");
      return a;
    };
    ASSERT_EQ(run_fsdpshard(args(input, out1)).exit_code, 0);
    auto again = args(out1, out2);
    if (command[0] == "gather" && command.back() == "state-dict") {
      again = {"gather", out1, "-o", out2, "--to", "state-dict", "--force"};  // out1 is a bare state dict
    } else if (command[0] == "gather") {
      again = {"gather", out1, "-o", out2, "--to", "export", "--force"};
    }
    const auto r = run_fsdpshard(again);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto same = run({python(), "-c", same_pickle, out1, out2});
    EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  }
}

TEST_F(OutputSafety, Torch2TensorMetadataArgumentIsKept) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  TempDir tmp;
  const std::string in = tmp.file("meta.pt");
  const auto made = run({torch2, "-c",
                         "import torch,sys; torch.save({'c': torch.arange(4).to(torch.complex64).conj(), "
                         "'n': torch.ones(3)._neg_view(), 'p': torch.nn.Parameter(torch.ones(2))}, sys.argv[1])",
                         in});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string out = tmp.file("out.pt");
  ASSERT_EQ(run_fsdpshard({"gather", in, "-o", out, "--to", "state-dict"}).exit_code, 0);
  const auto checked = run({torch2, "-c",
                            "import torch,sys; a=torch.load(sys.argv[1], weights_only=True); "
                            "b=torch.load(sys.argv[2], weights_only=True); "
                            "assert a.keys()==b.keys(); "
                            "assert all(torch.equal(a[k],b[k]) and a[k].is_conj()==b[k].is_conj() and "
                            "a[k].is_neg()==b[k].is_neg() and type(a[k]) is type(b[k]) for k in a), 'differs'; "
                            "print({k:(b[k].is_conj(), b[k].is_neg(), type(b[k]).__name__) for k in b})",
                            in, out});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  const auto safe = run_python2(torch2, "check_output_safety.py", {marker(), "--weights-only", out});
  EXPECT_EQ(safe.exit_code, 0) << safe.out << safe.err;
}

TEST_F(OutputSafety, Torch2LoadsOutputsWithWeightsOnly) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  TempDir tmp;
  for (const std::string name : {"history", "top_level", "optimizer"}) {
    const std::string out = tmp.file(name + ".th");
    ASSERT_EQ(run_fsdpshard({"gather", payload(name), "-o", out, "--to", "export"}).exit_code, 0);
    const auto safe = run_python2(torch2, "check_output_safety.py", {marker(), "--weights-only", out});
    EXPECT_EQ(safe.exit_code, 0) << safe.out << safe.err;
    const std::string shards = tmp.file(name + "_shards");
    ASSERT_EQ(run_fsdpshard({"reshard", payload(name), "-o", shards, "--shards", "2"}).exit_code, 0);
    const auto shards_safe = run_python2(torch2, "check_output_safety.py", {marker(), "--weights-only", shards});
    EXPECT_EQ(shards_safe.exit_code, 0) << shards_safe.out << shards_safe.err;
  }
}

}  // namespace
}  // namespace fsdpshard::test
