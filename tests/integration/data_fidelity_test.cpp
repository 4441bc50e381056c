// Data torch keeps that fsdpshard must keep too, or refuse clearly (issue 11): keys that
// are not UTF-8, the empty key, one storage viewed as several dtypes, deflated records,
// every dtype torch 2.x saves. Each input is written by real torch
// (tests/python/fidelity_cases.py); outputs are loaded back by real torch or safetensors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

// Writes case `name` with torch 1.13 (or the torch 2.x interpreter `torch2`).
std::string make_case(const TempDir& dir, const std::string& name, const std::string& torch2 = "") {
  const std::string path = dir.file(name + ".th");
  const auto r = torch2.empty() ? run_python("fidelity_cases.py", {"make", name, path})
                                : run_python2(torch2, "fidelity_cases.py", {"make", name, path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return path;
}

// One "fsdpshard: error: ..." line with `needle` in it, exit 2, and no `output` left behind.
void expect_refused(const CommandResult& r, const std::string& needle, const std::string& output) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("fsdpshard: error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "expected '" << needle << "' in: " << r.err;
  EXPECT_FALSE(file_exists(output)) << output << " was written";
}

// Surrogate keys: torch writes and reads them back, so torch outputs keep them; JSON
// cannot hold them, so --json shows U+FFFD and safetensors outputs are refused.
TEST(DataFidelity, LoneSurrogateKeyRoundTripsThroughTorchOutputs) {
  TempDir dir;
  const std::string in = make_case(dir, "surrogate_key");
  for (const char* to : {"state-dict", "training"}) {
    const std::string out = dir.file(std::string(to) + ".th");
    const auto r = run_fsdpshard({"gather", in, "-o", out, "--to", to, "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto key = to == std::string("training") ? std::vector<std::string>{"--key-b", "best_state.model"}
                                                    : std::vector<std::string>{};
    std::vector<std::string> args{in, out};
    args.insert(args.end(), key.begin(), key.end());
    const auto same = run_python("compare_state_dicts.py", args);
    EXPECT_EQ(same.exit_code, 0) << to << ": " << same.out << same.err;
  }
  const std::string out = dir.file("state-dict.th");
  const auto keys = run_python("fidelity_cases.py", {"load", out});
  EXPECT_EQ(keys.out, "['a\\udcff', 'b']\n") << keys.err;
}

TEST(DataFidelity, LoneSurrogateKeyInJsonIsReplacedNotACrash) {
  TempDir dir;
  const std::string in = make_case(dir, "surrogate_key");
  const auto r = run_fsdpshard({"inspect", in, "--json", "--tensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_file(dir.file("report.json"), r.out);
  // One U+FFFD per byte that is not UTF-8, as Python's bytes.decode('utf-8', 'replace').
  const auto holds =
      run_python("fidelity_cases.py", {"json", dir.file("report.json"), "'a\\ufffd\\ufffd\\ufffd'"});
  EXPECT_EQ(holds.exit_code, 0) << holds.out << holds.err;
  const auto human = run_fsdpshard({"inspect", in, "--tensors"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
}

TEST(DataFidelity, LoneSurrogateKeyRefusedBySafetensorsOutputs) {
  TempDir dir;
  const std::string in = make_case(dir, "surrogate_key");
  const std::string out = dir.file("out.safetensors");
  expect_refused(run_fsdpshard({"gather", in, "-o", out, "--to", "safetensors"}),
                 "tensor name 'a\\udcff' is not valid UTF-8 (a lone surrogate", out);
  for (const char* format : {"safetensors", "torch"}) {  // a torch shard set has a JSON index too
    expect_refused(run_fsdpshard({"reshard", in, "-o", dir.file("shards"), "--shards", "2", "--format", format}),
                   "is not valid UTF-8", dir.file("shards"));
  }
  // Without that key the rest goes to safetensors.
  const auto rest = run_fsdpshard({"gather", in, "-o", out, "--to", "safetensors", "--exclude", "a*", "-q"});
  EXPECT_EQ(rest.exit_code, 0) << rest.err;
}

// Text Python cannot decode (0xFF in BINUNICODE): torch.load fails, so does fsdpshard, clearly.
TEST(DataFidelity, KeyThatIsNotUtf8IsRefusedLikeTorchLoad) {
  TempDir dir;
  const std::string in = make_case(dir, "ff_unicode_key");
  const auto torch_load = run_python("fidelity_cases.py", {"load", in});
  EXPECT_EQ(torch_load.exit_code, 1);
  EXPECT_NE(torch_load.out.find("UnicodeDecodeError"), std::string::npos) << torch_load.out;
  const std::string out = dir.file("out.th");
  expect_refused(run_fsdpshard({"inspect", in, "--json"}), "is not UTF-8 at byte 1", out);
  expect_refused(run_fsdpshard({"gather", in, "-o", out, "--to", "state-dict"}), "'a\\xff' is not UTF-8", out);
}

// bytes keys load in torch but are no state dict fsdpshard handles: a true message.
TEST(DataFidelity, BytesKeyIsRefusedWithATrueMessage) {
  TempDir dir;
  const std::string in = make_case(dir, "bytes_key");
  const std::string out = dir.file("out.th");
  expect_refused(run_fsdpshard({"gather", in, "-o", out, "--to", "state-dict"}), "has a key of type bytes", out);
}

TEST(DataFidelity, EmptyKeyIsKeptInTorchAndSafetensorsOutputs) {
  TempDir dir;
  const std::string in = make_case(dir, "empty_key");
  const std::string out = dir.file("out.th");
  const auto r = run_fsdpshard({"gather", in, "-o", out, "--to", "state-dict", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto same = run_python("compare_state_dicts.py", {in, out});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  const std::string st = dir.file("out.safetensors");
  const auto s = run_fsdpshard({"gather", in, "-o", st, "--to", "safetensors", "-q"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  // fsdpshard reads its own safetensors back, '' included.
  const auto back = run_fsdpshard({"gather", st, "-o", dir.file("back.th"), "--to", "state-dict", "-q"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  const auto same_back = run_python("compare_state_dicts.py", {in, dir.file("back.th")});
  EXPECT_EQ(same_back.exit_code, 0) << same_back.out << same_back.err;
  // A rename that empties a name is still refused, and says so.
  expect_refused(run_fsdpshard({"gather", in, "-o", dir.file("r.th"), "--rename", "^b$=>"}),
                 "--rename turns 'b' into an empty name", dir.file("r.th"));
}

TEST(DataFidelity, EmptyKeyLoadsWithSafetensors) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  TempDir dir;
  const std::string in = make_case(dir, "empty_key");
  const std::string st = dir.file("out.safetensors");
  const auto s = run_fsdpshard({"gather", in, "-o", st, "--to", "safetensors", "-q"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const auto loaded = run_python2(torch2, "fidelity_cases.py", {"safetensors", st, in});
  EXPECT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
}

// HalfStorage and FloatStorage naming one record: torch 1.13 and 2.x load it differently.
TEST(DataFidelity, StorageNamedWithTwoDtypesIsRefused) {
  TempDir dir;
  const std::string in = make_case(dir, "mixed_storage");
  const std::string out = dir.file("out.th");
  const std::string needle = "storage 'data/0' is referenced both as torch.HalfStorage of 8 elements and as "
                             "torch.FloatStorage of 4 elements";
  expect_refused(run_fsdpshard({"gather", in, "-o", out, "--to", "state-dict"}), needle, out);
  expect_refused(run_fsdpshard({"inspect", in}), needle, out);
}

// torch 2.x writes a float8 tensor and its uint8/uint16 views over one UntypedStorage:
// the output keeps the bytes, each view's dtype, and the sharing.
TEST(DataFidelity, UntypedStorageViewedAsSeveralDtypesStaysShared) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  TempDir dir;
  const std::string in = make_case(dir, "untyped_views", torch2);
  const std::string out = dir.file("out.th");
  const auto r = run_fsdpshard({"gather", in, "-o", out, "--to", "state-dict", "--dtype", "bfloat16", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto same = run_python2(torch2, "fidelity_cases.py", {"same", in, out});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
}

TEST(DataFidelity, TypedStorageClassTorchDoesNotHaveIsRefused) {
  TempDir dir;
  const std::string in = make_case(dir, "float8_storage_class");
  const auto torch_load = run_python("fidelity_cases.py", {"load", in});
  EXPECT_EQ(torch_load.exit_code, 1) << torch_load.out;
  const std::string out = dir.file("out.th");
  expect_refused(run_fsdpshard({"gather", in, "-o", out}), "unknown storage class torch.Float8_e4m3fnStorage", out);
}

// A deflated data.pkl (and version, byteorder) is read inflated; deflated tensor records,
// which torch.load inflates but torch.save never writes, are refused before any output.
TEST(DataFidelity, DeflatedPickleIsReadDeflatedTensorsRefused) {
  TempDir dir;
  const std::string pickle = make_case(dir, "deflated_pickle");
  const std::string out = dir.file("out.th");
  const auto r = run_fsdpshard({"gather", pickle, "-o", out, "--to", "state-dict", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto same = run_python("compare_state_dicts.py", {pickle, out});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;

  const std::string tensors = make_case(dir, "deflated_tensors");
  const auto torch_load = run_python("fidelity_cases.py", {"load", tensors});
  EXPECT_EQ(torch_load.exit_code, 0) << torch_load.out;  // torch reads it: we refuse knowingly
  const std::string out2 = dir.file("out2.th");
  expect_refused(run_fsdpshard({"gather", tensors, "-o", out2, "--to", "state-dict"}),
                 "tensor record 'data/0' is deflate-compressed", out2);
}

// Every dtype torch 2.x saves (float8 in all five kinds, float4, uint16/32/64, complex32,
// bcomplex32, the bits types): gathered byte for byte into a file torch 2.x loads equal.
TEST(DataFidelity, EveryDtypeTorch2SavesIsGatheredByteForByte) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  TempDir dir;
  const std::string in = make_case(dir, "dtypes", torch2);
  const auto listed = run_fsdpshard({"inspect", in, "--tensors"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  for (const char* dtype : {"float8_e4m3fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bcomplex32", "bits4x2"}) {
    EXPECT_NE(listed.out.find(dtype), std::string::npos) << dtype << " not listed:\n" << listed.out;
  }
  const std::string out = dir.file("out.th");
  const auto r = run_fsdpshard({"gather", in, "-o", out, "--to", "state-dict", "--dtype", "float16", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto same = run_python2(torch2, "fidelity_cases.py", {"same", in, out});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  // safetensors holds the float8 kinds, the unsigned integers and complex64; not
  // complex32, float4 (its F4 counts 4-bit elements) or the bits types.
  const std::string st = dir.file("out.safetensors");
  expect_refused(run_fsdpshard({"gather", in, "-o", st, "--to", "safetensors"}), "which safetensors cannot store", st);
  const std::string stored_kinds = "re:^(float8|uint|complex64)";
  const auto some = run_fsdpshard({"gather", in, "-o", st, "--to", "safetensors", "-q", "--include", stored_kinds});
  ASSERT_EQ(some.exit_code, 0) << some.err;
  const std::string picked = dir.file("picked.th");
  ASSERT_EQ(run_fsdpshard({"gather", in, "-o", picked, "--to", "state-dict", "-q", "--include", stored_kinds}).exit_code,
            0);
  const auto loaded = run_python2(torch2, "fidelity_cases.py", {"safetensors", st, picked});
  EXPECT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
}

// The refusals above under mpirun -np 2: every rank agrees, rank 0 says it once, exit 2,
// no abort banner, nothing written, the input unchanged.
TEST(DataFidelity, RefusalsUnderMpirunAreOneLineAndWriteNothing) {
  TempDir dir;
  struct Case {
    const char* name;
    std::vector<std::string> extra;
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"ff_unicode_key", {"--to", "state-dict"}, "is not UTF-8"},
      {"bytes_key", {"--to", "state-dict"}, "has a key of type bytes"},
      {"mixed_storage", {"--to", "state-dict"}, "is referenced both as torch.HalfStorage"},
      {"float8_storage_class", {}, "unknown storage class torch.Float8_e4m3fnStorage"},
      {"deflated_tensors", {"--to", "state-dict"}, "is deflate-compressed"},
      {"surrogate_key", {"--to", "safetensors"}, "is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string in = make_case(dir, c.name);
    const std::string before = read_file(in);
    const std::string out = dir.file(std::string(c.name) + ".out");
    std::vector<std::string> args{"gather", in, "-o", out};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const auto r = run_fsdpshard_mpi(2, args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    std::size_t lines = 0;
    for (std::size_t at = r.err.find("fsdpshard: error: "); at != std::string::npos;
         at = r.err.find("fsdpshard: error: ", at + 1)) {
      ++lines;
    }
    EXPECT_EQ(lines, 1u) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("MPI_ABORT"), std::string::npos) << r.err;
    EXPECT_FALSE(file_exists(out)) << out << " was written";
    EXPECT_EQ(read_file(in), before) << "the input changed";
  }
  for (const auto& name : list_dir(dir.path())) {
    EXPECT_EQ(name.find(".fsdpshard-"), std::string::npos) << "left behind: " << name;
  }
}

}  // namespace
}  // namespace fsdpshard::test
