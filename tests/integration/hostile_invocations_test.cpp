// Hostile command lines (issue 11; tests/hostile/crash_classes.py): catastrophic regexes,
// YAML alias bombs, FIFOs / sockets / devices as inputs, nonsense numbers, filters that
// leave nothing. Each must end with its exit code, within a time limit (a hang fails the
// test instead of stalling the suite), never by a signal; a failure leaves the output
// folder empty and every input byte for byte as it was. The cases marked "mpi" run under
// mpirun -np 2 too.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "support/hostile_corpus.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Long enough for any case on a loaded 2-core machine, short against a hang.
constexpr const char* kTimeLimitSeconds = "60";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

void make_fifo(const std::string& path) { ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << path; }

void make_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path) << path;
  std::copy(path.begin(), path.end(), addr.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << path;
  ::close(fd);  // the socket file stays
}

// The special file a case names as {special}, made in `dir`; returns its path.
std::string make_special(const std::string& kind, const TempDir& dir) {
  if (kind == "fifo") {
    make_fifo(dir.file("input.th"));
    return dir.file("input.th");
  }
  if (kind == "fifo.safetensors") {
    make_fifo(dir.file("model.safetensors"));
    return dir.file("model.safetensors");
  }
  if (kind == "socket") {
    make_socket(dir.file("s.th"));
    return dir.file("s.th");
  }
  if (kind == "shard_set_fifo_member") {
    write_file(dir.file("model.safetensors.index.json"),
               R"({"metadata": {"total_size": 64}, "weight_map": {"w": "model-00001-of-00001.safetensors"}})");
    make_fifo(dir.file("model-00001-of-00001.safetensors"));
    return dir.path();
  }
  if (kind == "shard_set_fifo_index") {
    make_fifo(dir.file("model.safetensors.index.json"));
    return dir.file("model.safetensors.index.json");
  }
  if (kind == "fsdp_rank1_fifo") {
    // Real FSDP rank files (torch 2.x, 2 ranks) with rank 1's file a FIFO.
    fs::copy_file(source_dir() + "/tests/fixtures/fsdp/w2/checkpoint.th", dir.file("checkpoint.th"));
    make_fifo(dir.file("checkpoint.th.1"));
    return dir.path();
  }
  if (kind == "fsdp_shapes_from_fifo") {
    // Real FSDP rank files, and a FIFO to take the full shapes from.
    for (const char* name : {"checkpoint.th", "checkpoint.th.1"}) {
      fs::copy_file(source_dir() + "/tests/fixtures/fsdp/w2/" + name, dir.file(name));
    }
    make_fifo(dir.file("shapes.th"));
    return dir.path();
  }
  ADD_FAILURE() << "unknown setup " << kind;
  return "";
}

// Every regular file under `dir` with its bytes: "input unchanged" is this map unchanged.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.file_size() < (1u << 20)) files[entry.path()] = read_file(entry.path());
    else if (entry.is_regular_file()) files[entry.path()] = "size " + std::to_string(entry.file_size());
  }
  return files;
}

class HostileInvocations : public HostileCorpusTest {
 protected:
  static const json& invocations() { return corpus_manifest()["invocations"]; }

  // Runs case `c` (on `ranks` ranks under mpirun when ranks > 0) and checks its outcome.
  static void check(const json& c, int ranks) {
    const std::string name = c["name"];
    SCOPED_TRACE(name + " (" + c["what"].get<std::string>() + ")" + (ranks ? " under mpirun -np 2" : ""));
    TempDir out, special_dir;
    const std::string special = c.contains("setup") ? make_special(c["setup"], special_dir) : "";
    std::vector<std::string> argv{"timeout", "-k", "5", kTimeLimitSeconds};
    if (ranks > 0) {
      setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
      setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
      setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);
      argv.insert(argv.end(), {mpiexec(), "--oversubscribe", "--bind-to", "none", "-np", std::to_string(ranks)});
    }
    argv.push_back(fsdpshard_binary());
    for (const json& a : c["args"]) {
      std::string arg = a.get<std::string>();
      arg = replace_all(arg, "{dir}", corpus_dir());
      arg = replace_all(arg, "{out}", out.path());
      arg = replace_all(arg, "{special}", special);
      argv.push_back(arg);
    }
    const auto corpus_before = snapshot(corpus_dir());
    const auto special_before = snapshot(special_dir.path());

    const CommandResult r = run(argv);
    const int expected = c["exit"];
    ASSERT_NE(r.exit_code, 124) << "hung: no exit within " << kTimeLimitSeconds << " s; " << r.err;
    EXPECT_LT(r.exit_code, 128) << "killed by a signal: " << r.err;
    EXPECT_EQ(r.exit_code, expected) << r.err;
    if (expected == 2) {
      EXPECT_NE(r.err.find("fsdpshard: error: "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(c["error"].get<std::string>()), std::string::npos)
          << "expected '" << c["error"].get<std::string>() << "' in: " << r.err;
      if (ranks == 0) EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    }
    if (expected != 0) {
      EXPECT_TRUE(list_dir(out.path()).empty()) << "left " << list_dir(out.path()).front();
    }
    EXPECT_EQ(snapshot(corpus_dir()), corpus_before) << "an input changed";
    EXPECT_EQ(snapshot(special_dir.path()), special_before) << "an input changed";
  }
};

TEST_F(HostileInvocations, CorpusCoversEveryClass) {
  std::map<std::string, int> setups;
  for (const json& c : invocations()) {
    if (c.contains("setup")) ++setups[c["setup"].get<std::string>()];
  }
  EXPECT_GE(invocations().size(), 57u);
  for (const char* kind : {"fifo", "fifo.safetensors", "socket", "shard_set_fifo_member", "shard_set_fifo_index",
                           "fsdp_rank1_fifo", "fsdp_shapes_from_fifo"}) {
    EXPECT_GE(setups[kind], 1) << kind;
  }
}

TEST_F(HostileInvocations, EachEndsWithItsExitCodeAndWritesNothing) {
  for (const json& c : invocations()) check(c, 0);
}

TEST_F(HostileInvocations, InputClassesUnderMpirun) {
  int cases = 0;
  for (const json& c : invocations()) {
    if (!c.value("mpi", false)) continue;
    ++cases;
    check(c, 2);
  }
  EXPECT_GE(cases, 10);
}

// The exit-0 cases wrote what they should: torch loads it, with the expected names.
TEST_F(HostileInvocations, CatastrophicPatternsStillSelectAndRename) {
  TempDir out;
  const std::string long_key(100000, 'x');
  auto r = run_fsdpshard({"gather", corpus_file("long_key.th"), "-o", out.file("kept.th"), "--to", "state-dict",
                          "--exclude", "re:(x+x+)+y", "--rename", "(x+x+)+$=>long"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto names = run({python(), "-c",
                          "import sys, torch; print('\\n'.join(sorted(torch.load(sys.argv[1]).keys())))",
                          out.file("kept.th")});
  ASSERT_EQ(names.exit_code, 0) << names.err;
  EXPECT_EQ(names.out, "b\nlong\nw\n");
  r = run_fsdpshard({"gather", corpus_file("good.th"), "-o", out.file("empty.th"), "--to", "state-dict", "--include",
                     "nomatch*", "--allow-empty"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto empty = run({python(), "-c", "import sys, torch; print(len(torch.load(sys.argv[1])))", out.file("empty.th")});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "0\n");
}

}  // namespace
}  // namespace fsdpshard::test
