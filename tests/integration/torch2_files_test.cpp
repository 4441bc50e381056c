// Every command on files torch 2.x writes (records '.format_version', '.storage_alignment',
// 'byteorder', 'version', '.data/serialization_id'; storages in numeric key order;
// _rebuild_tensor_v3): the committed goldens (torch 2.15) and the files
// tests/fixtures/make_torch2_fixtures.py writes at test time with the torch 2.x venv
// (ctest's make_torch2_fixtures step). Each output is loaded back by the venv's torch —
// weights_only=True where promised, storage offsets computed the torch 2.7+ way for the
// archives that keep '.format_version' — and by torch 1.13 where it can read the input.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Where make_torch2_fixtures.sh wrote this build's torch 2.x files.
std::string torch2_fixture_dir() { return FSDPSHARD_TORCH2_FIXTURES; }

struct Input {
  std::string name;
  std::string path;
  std::string layout;  // as inspect names it
  bool torch113_reads = true;
  std::string version;  // the input's own 'version' ("" when it has none)
  int ranks = 1;        // > 1: an FSDP run's rank files beside `path`
};

// The state dict `gather --from auto` takes, as a dotted path in the input.
std::string source_key(const Input& in) {
  if (in.layout == "training") return "best_state.model";
  if (in.layout == "fsdp-rank0") return "fsdp_best_state.model";
  if (in.layout == "exported") return "best_state";
  return "";
}

std::vector<Input> inputs_of(const std::string& dir) {
  const json manifest = json::parse(read_file(dir + "/manifest.json"));
  std::vector<Input> inputs;
  for (const char* list : {"fixtures", "extra"}) {
    if (!manifest.contains(list)) continue;
    for (const auto& f : manifest[list]) {
      Input in;
      in.name = f["name"];
      in.path = dir + "/" + f["path"].get<std::string>();
      in.layout = f["layout"];
      in.torch113_reads = in.name != "new_dtypes";  // _rebuild_tensor_v3 is torch 2.x
      in.version = f.value("version", in.layout == "exported" ? "1.3.0" : "");
      in.ranks = f.value("ranks", 1);
      inputs.push_back(in);
    }
  }
  return inputs;
}

// The checks for the venv's torch and for torch 1.13, collected while the commands run and
// handed to tests/python/check_outputs.py at the end, one interpreter each.
struct Plans {
  json torch2 = json::array();
  json torch113 = json::array();
  void add(const Input& in, json check, const json& torch2_only = json::object()) {
    if (in.torch113_reads) torch113.push_back(check);
    check.update(torch2_only);
    torch2.push_back(check);
  }
};

void expect_ok(const CommandResult& r, const std::vector<std::string>& args) {
  std::string line;
  for (const auto& a : args) line += a + " ";
  EXPECT_EQ(r.exit_code, 0) << line << "\n" << r.err;
}

CommandResult fsdpshard_ok(const std::vector<std::string>& args) {
  auto r = run_fsdpshard(args);
  expect_ok(r, args);
  return r;
}

// `verify A B` says equal (exit 0); without xp.cfg on one side, with --ignore-cfg.
void expect_verify_equal(const std::string& a, const std::string& b, bool same_cfg) {
  std::vector<std::string> args{"verify", a, b};
  if (!same_cfg) args.push_back("--ignore-cfg");
  expect_ok(run_fsdpshard(args), args);
}

const std::vector<std::string> kSets = {"optim.lr=0.0042", "dataset.train.path=/data/ft"};

// cfg -o, --in-place, --cfg-format yaml: every record torch wrote is kept, bytes and order.
void exercise_cfg(const Input& in, const TempDir& dir, Plans& plans) {
  const std::string out = dir.file(in.name + ".cfg.th");
  std::vector<std::string> args{"cfg", in.path, "-o", out};
  for (const auto& s : kSets) args.insert(args.end(), {"--set", s});
  fsdpshard_ok(args);
  const bool text = in.layout == "exported";
  plans.add(in,
            {{"output", out},
             {"same_as", {{"reference", in.path}, {"ignore", json::array({"xp.cfg"})}}},
             {"cfg", {{"reference", in.path}, {"sets", kSets}, {"type", text ? "str" : "DictConfig"}}}},
            {{"records_from", in.path}, {"offsets", true}, {"weights_only", text}});

  const std::string copy = dir.file(in.name + ".inplace.th");
  fs::copy_file(in.path, copy);
  std::vector<std::string> in_place{"cfg", copy, "--in-place"};
  for (const auto& s : kSets) in_place.insert(in_place.end(), {"--set", s});
  fsdpshard_ok(in_place);
  // The archive's root folder is the input's in both: the files are the same bytes.
  EXPECT_TRUE(read_file(copy) == read_file(out)) << "--in-place and -o differ";

  if (text) return;
  // YAML text: the whole training file then loads with weights_only=True (torch 1.13's
  // weights-only loader lacks BINFLOAT, so only torch 2.x can say).
  const std::string yaml = dir.file(in.name + ".yaml.th");
  fsdpshard_ok({"cfg", in.path, "-o", yaml, "--cfg-format", "yaml"});
  plans.add(in, {{"output", yaml}, {"cfg", {{"reference", in.path}, {"type", "str"}}}},
            {{"records_from", in.path}, {"offsets", true}, {"weights_only", true}});
}

// gather to every --to, reshard into torch and safetensors shards, verify: the tensors
// are the input's, bit for bit.
void exercise_transfers(const Input& in, const TempDir& dir, Plans& plans) {
  const std::string key = source_key(in);
  const bool has_cfg = in.layout != "state-dict";
  if (has_cfg) {
    const std::string training = dir.file(in.name + ".training.th");
    fsdpshard_ok({"gather", in.path, "-o", training, "-q"});
    plans.add(in, {{"output", training},
                   {"same_as", {{"reference", in.path}, {"ref_key", key}, {"out_key", "best_state.model"}}},
                   {"cfg", {{"reference", in.path}, {"type", "DictConfig"}}}});
    expect_verify_equal(in.path, training, /*same_cfg=*/true);

    const std::string exported = dir.file(in.name + ".export.bin");
    fsdpshard_ok({"gather", in.path, "-o", exported, "--to", "export", "-q"});
    // The input's own 'version' is kept, else the latest AudioCraft release.
    plans.add(in,
              {{"output", exported},
               {"same_as", {{"reference", in.path}, {"ref_key", key}, {"out_key", "best_state"}}},
               {"version", in.version.empty() ? "1.3.0" : in.version}},
              {{"weights_only", true}});
  }
  const std::string state = dir.file(in.name + ".sd.th");
  fsdpshard_ok({"gather", in.path, "-o", state, "--to", "state-dict", "-q"});
  plans.add(in, {{"output", state}, {"same_as", {{"reference", in.path}, {"ref_key", key}}}},
            {{"weights_only", true}});
  expect_verify_equal(in.path, state, /*same_cfg=*/!has_cfg);

  const std::string shards = dir.file(in.name + ".shards");
  fsdpshard_ok({"reshard", in.path, "-o", shards, "--shards", "2", "-q"});
  plans.add(in, {{"output", shards}, {"same_as", {{"reference", in.path}, {"ref_key", key}}}});
  expect_verify_equal(in.path, shards, /*same_cfg=*/true);

  if (in.name == "new_dtypes") return;  // complex32 and float8 *fnuz have no safetensors dtype
  const std::string st = dir.file(in.name + ".safetensors");
  fsdpshard_ok({"gather", in.path, "-o", st, "--to", "safetensors", "-q"});
  const std::string st_shards = dir.file(in.name + ".st_shards");
  fsdpshard_ok({"reshard", in.path, "-o", st_shards, "--max-shard-size", "4KB", "--format", "safetensors", "-q"});
  for (const auto& out : {st, st_shards}) {
    plans.torch2.push_back({{"output", out}, {"same_as", {{"reference", in.path}, {"ref_key", key}}}});
  }
}

// An FSDP run's rank files: reshard --world 3 and back to 2 gives the rank files back;
// the latest weights (--from model) are the same from both worlds.
void exercise_world(const Input& in, const TempDir& dir, Plans& plans) {
  const std::string run_dir = fs::path(in.path).parent_path().string();
  const std::string w3 = dir.file(in.name + ".w3");
  const std::string w2 = dir.file(in.name + ".w2");
  fsdpshard_ok({"reshard", "--world", "3", run_dir, "-o", w3, "-q"});
  fsdpshard_ok({"reshard", "--world", "2", w3, "-o", w2, "-q"});
  plans.add(in, {{"output", w2}, {"fsdp_same", run_dir}});
  const std::string from2 = dir.file(in.name + ".model2.th");
  const std::string from3 = dir.file(in.name + ".model3.th");
  fsdpshard_ok({"gather", run_dir, "--from", "model", "--to", "state-dict", "-o", from2, "-q"});
  fsdpshard_ok({"gather", w3, "--from", "model", "--to", "state-dict", "-o", from3, "-q"});
  expect_verify_equal(from2, from3, /*same_cfg=*/true);
  plans.add(in, {{"output", from3}, {"same_as", {{"reference", from2}}}}, {{"weights_only", true}});
}

void run_plan(const std::string& interpreter, bool torch2, const json& checks, const TempDir& dir) {
  const std::string plan = dir.file(torch2 ? "plan_torch2.json" : "plan_torch113.json");
  write_file(plan, json{{"checks", checks}}.dump(1));
  const auto r = torch2 ? run_python2(interpreter, "check_outputs.py", {plan}) : run_python("check_outputs.py", {plan});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The last line is the tally ("torch X: n/n checks passed"), shown in the test log.
  std::printf("%s", r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1).c_str());
}

void exercise_every_command(const std::string& fixtures, const std::string& torch2) {
  TempDir dir;
  Plans plans;
  const auto inputs = inputs_of(fixtures);
  ASSERT_FALSE(inputs.empty());
  for (const Input& in : inputs) {
    SCOPED_TRACE(in.path);
    const auto inspect = fsdpshard_ok({"inspect", in.path, "--json"});
    if (inspect.exit_code == 0) EXPECT_EQ(json::parse(inspect.out)["layout"], in.layout);
    expect_ok(run_fsdpshard({"verify", in.path, in.path, "--crc"}), {"verify --crc", in.path});
    if (in.layout != "state-dict") exercise_cfg(in, dir, plans);
    exercise_transfers(in, dir, plans);
    if (in.ranks > 1) exercise_world(in, dir, plans);
  }
  run_plan(torch2, true, plans.torch2, dir);
  run_plan(python(), false, plans.torch113, dir);
}

TEST(Torch2Files, EveryCommandOnTheCommittedGoldens) {
  FSDPSHARD_REQUIRE_TORCH2(venv);
  exercise_every_command(source_dir() + "/tests/fixtures/golden", venv);
}

TEST(Torch2Files, EveryCommandOnFilesTheVenvTorchWritesNow) {
  FSDPSHARD_REQUIRE_TORCH2(venv);
  ASSERT_TRUE(file_exists(torch2_fixture_dir() + "/manifest.json"))
      << "ctest's make_torch2_fixtures step did not write " << torch2_fixture_dir();
  exercise_every_command(torch2_fixture_dir(), venv);
}

// A '.storage_alignment' that is not a usable alignment is bad input for a copy that must
// keep it: one error line, exit 2, no output.
TEST(Torch2Files, CfgRefusesAnUnusableStorageAlignment) {
  TempDir dir;
  const std::string golden = source_dir() + "/tests/fixtures/golden/training/checkpoint.th";
  // Rewrites the archive with Python's zipfile, '.storage_alignment' replaced (standard library only).
  const std::string rewrite =
      "import sys, zipfile\n"
      "src, dst, value = sys.argv[1:]\n"
      "with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, 'w') as b:\n"
      "    for i in a.infolist():\n"
      "        data = value.encode() if i.filename.endswith('/.storage_alignment') else a.read(i)\n"
      "        b.writestr(i.filename, data)\n";
  for (const char* value : {"abc", "0", "65536", "", "64 "}) {
    SCOPED_TRACE(std::string("'") + value + "'");
    const std::string in = dir.file("bad.th");
    const auto w = run({python(), "-c", rewrite, golden, in, value});
    ASSERT_EQ(w.exit_code, 0) << w.err;
    const std::string out = dir.file("out.th");
    const auto r = run_fsdpshard({"cfg", in, "-o", out, "--set", "optim.lr=1"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("fsdpshard: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("'.storage_alignment' holds"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(list_dir(dir.path()) == std::vector<std::string>{"bad.th"}) << "an output was left behind";
    fs::remove(in);
  }
}

// Several ranks read a torch 2.x file exactly as one does.
TEST(Torch2Files, GatherOnTwoRanksWritesWhatOneWrites) {
  TempDir one, two;  // same file name: the archive's root folder comes from it
  const std::string golden = source_dir() + "/tests/fixtures/golden/fsdp/checkpoint.th";
  fsdpshard_ok({"gather", golden, "-o", one.file("state_dict.bin"), "--to", "export", "-q"});
  const auto r = run_fsdpshard_mpi(2, {"gather", golden, "-o", two.file("state_dict.bin"), "--to", "export", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_file(one.file("state_dict.bin")) == read_file(two.file("state_dict.bin")));
}

}  // namespace
}  // namespace fsdpshard::test
