// Hostile and malformed inputs (issue 7): tests/hostile/make_hostile.py writes each one
// with its expected error; every command must refuse it with exit 2 and exactly one
// "fsdpshard: error: " line naming the file, never crash, never write an output, and
// never run what a pickle asks to run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/hostile_corpus.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

using nlohmann::json;

// The corpus is written once for the suite (support/hostile_corpus.h).
class Hostile : public HostileCorpusTest {
 protected:
  static const json& cases() { return corpus_manifest()["cases"]; }
  static std::string file(const json& c) { return corpus_file(c["file"].get<std::string>()); }

  // What `command` must do on case `c`: the override, else exit 2 with the case's error.
  static std::pair<int, std::string> expected(const json& c, const char* command) {
    int exit_code = 2;
    std::string error = c["error"];
    if (c.contains(command)) {
      exit_code = c[command].value("exit", 2);
      error = c[command].value("error", error);
    }
    return {exit_code, error};
  }

  static void expect_outcome(const json& c, const char* command, const CommandResult& r) {
    SCOPED_TRACE(std::string(command) + " on " + c["file"].get<std::string>() + " (" + c["what"].get<std::string>() + ")");
    const auto [exit_code, error] = expected(c, command);
    EXPECT_LT(r.exit_code, 128) << "crashed: " << r.err;
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    if (exit_code != 2) return;
    // Exactly one line, the error, naming the file and the problem.
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_EQ(r.err.rfind("fsdpshard: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(file(c)), std::string::npos) << "the error does not name the file: " << r.err;
    EXPECT_NE(r.err.find(error), std::string::npos) << "expected '" << error << "' in: " << r.err;
  }

  // The result with stderr cut to fsdpshard's own lines (mpirun adds its note that a
  // process exited non-zero).
  static CommandResult only_error_lines(CommandResult r) {
    std::string ours;
    std::size_t start = 0;
    while (start < r.err.size()) {
      std::size_t end = r.err.find('\n', start);
      end = end == std::string::npos ? r.err.size() : end + 1;
      if (r.err.compare(start, 10, "fsdpshard:") == 0) ours += r.err.substr(start, end - start);
      start = end;
    }
    r.err = ours;
    return r;
  }
};

TEST_F(Hostile, CorpusHasEveryKindOfInput) {
  EXPECT_GE(cases().size(), 25u);
}

TEST_F(Hostile, InspectRefusesWithOneLineOrListsUnsafeGlobals) {
  for (const json& c : cases()) {
    const auto r = run_fsdpshard({"inspect", "--json", "--tensors", "--cfg", file(c)});
    expect_outcome(c, "inspect", r);
    if (c.contains("inspect") && c["inspect"].contains("unsafe_global") && r.exit_code == 0) {
      // The payload's callable is named, and marked as what weights_only=True refuses.
      bool listed = false;
      const json report = json::parse(r.out);
      for (const json& g : report["globals"]) {
        if (g["name"] == c["inspect"]["unsafe_global"]) {
          listed = true;
          EXPECT_FALSE(g["weights_only_safe"].get<bool>()) << g.dump();
        }
      }
      EXPECT_TRUE(listed) << c["file"] << ": " << r.out;
    }
  }
}

TEST_F(Hostile, GatherRefusesAndWritesNothing) {
  for (const json& c : cases()) {
    TempDir out;
    const auto r = run_fsdpshard({"gather", file(c), "-o", out.file("out.th")});
    expect_outcome(c, "gather", r);
    if (r.exit_code != 0) {
      EXPECT_TRUE(list_dir(out.path()).empty()) << c["file"] << " left " << list_dir(out.path()).front();
    }
  }
}

TEST_F(Hostile, VerifyWithCrcRefuses) {
  for (const json& c : cases()) {
    const auto r = run_fsdpshard({"verify", "--crc", file(c), file(c)});
    expect_outcome(c, "verify_crc", r);
  }
}

TEST_F(Hostile, CfgRefusesMalformedDictConfig) {
  for (const json& c : cases()) {
    if (!c.contains("cfg")) continue;
    expect_outcome(c, "cfg", run_fsdpshard({"cfg", file(c)}));
  }
}

// Under mpirun -np 2 (issue 11): the same outcome, still one error line (rank 0 speaks for
// both), no MPI_ABORT banner, no output, and the input unchanged.
TEST_F(Hostile, GatherUnderMpirunRefusesOnceAndWritesNothing) {
  for (const json& c : cases()) {
    TempDir out;
    const std::string before = read_file(file(c));
    const auto r = run_fsdpshard_mpi(2, {"gather", file(c), "-o", out.file("out.th")});
    expect_outcome(c, "gather", r.exit_code == 2 ? only_error_lines(r) : r);
    EXPECT_EQ(r.err.find("MPI_ABORT"), std::string::npos) << c["file"] << ": " << r.err;
    if (r.exit_code != 0) {
      EXPECT_TRUE(list_dir(out.path()).empty()) << c["file"] << " left " << list_dir(out.path()).front();
    }
    EXPECT_EQ(read_file(file(c)), before) << c["file"] << " changed";
  }
}

// os.system / eval payloads: nothing above ran them (their marker file is absent), and
// torch.load would have (the positive control creates the marker), so the test would see it.
TEST_F(Hostile, PayloadsNeverRunButAreLive) {
  int payloads = 0;
  for (const json& c : cases()) {
    if (!c.contains("marker")) continue;
    ++payloads;
    const std::string marker = c["marker"];
    TempDir out;
    run_fsdpshard({"inspect", "--json", "--tensors", "--cfg", file(c)});
    run_fsdpshard({"gather", file(c), "-o", out.file("out.th"), "--from", "best_state.model"});
    run_fsdpshard({"cfg", file(c)});
    run_fsdpshard({"verify", "--crc", file(c), file(c)});
    EXPECT_FALSE(file_exists(marker)) << c["file"] << ": something ran the payload";

    const auto detonated = run({python(), source_dir() + "/tests/hostile/make_hostile.py", "--detonate", file(c)});
    EXPECT_EQ(detonated.exit_code, 0) << detonated.err;
    EXPECT_TRUE(file_exists(marker)) << c["file"] << ": torch.load did not run the payload; the control proves nothing";
  }
  EXPECT_GE(payloads, 2);
}

}  // namespace
}  // namespace fsdpshard::test
