// Faults while gather and reshard run (issue 7): a full disk, a file size limit, an output
// folder that cannot be written, an input truncated between planning and reading, a rank
// killed by SIGKILL under mpirun. Each must end with a non-zero exit, no output and no
// temporary file left, and the input untouched.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "support/test_support.h"

extern char** environ;

namespace fsdpshard::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A command started in the background, its output going to files of `dir`.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env, const TempDir& dir)
      : out_(dir.file("stdout.txt")), err_(dir.file("stderr.txt")) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> env_text(extra_env);
    for (char** e = environ; *e; ++e) env_text.emplace_back(*e);
    std::vector<char*> env, args;
    for (auto& e : env_text) env.push_back(e.data());
    env.push_back(nullptr);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), env.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Background() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  bool started() const { return pid_ > 0; }
  // Exit code, or 128 + signal.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    done_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string err() const { return read_file(err_); }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  bool done_ = false;
};

bool wait_for(const std::string& path, double seconds = 60) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!fs::exists(path)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Something named like an AtomicFile/AtomicDirectory temporary in `folder`.
bool has_temp(const std::string& folder) {
  for (const auto& name : list_dir(folder)) {
    if (name.find(".fsdpshard-tmp-") != std::string::npos) return true;
  }
  return false;
}

std::string copy_of_input(const TempDir& dir, const std::string& name = "fsdp/checkpoint.th") {
  const std::string copy = dir.file("input.th");
  fs::copy_file(fixture(name), copy);
  return copy;
}

// A small tmpfs (root in a container that allows mounts); unmounted on destruction.
class Tmpfs {
 public:
  Tmpfs(const std::string& where, const std::string& options) : where_(where) {
    fs::create_directories(where);
    mounted_ = ::mount("tmpfs", where.c_str(), "tmpfs", options.find("ro") == 0 ? MS_RDONLY : 0,
                       options.c_str()) == 0;
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string where_;
  bool mounted_ = false;
};

// The commands under test, writing to `out` (a file for gather, a folder for reshard).
std::vector<std::string> gather_args(const std::string& input, const std::string& out) {
  return {"gather", input, "-o", out, "-q"};
}
std::vector<std::string> reshard_args(const std::string& input, const std::string& out) {
  return {"reshard", input, "-o", out, "--shards", "3", "-q"};
}
using ArgsFor = std::vector<std::string> (*)(const std::string&, const std::string&);
const std::pair<const char*, ArgsFor> kCommands[] = {{"gather", gather_args}, {"reshard", reshard_args}};

void expect_clean_failure(const CommandResult& r, const std::string& folder, const std::string& input_before,
                          const std::string& input) {
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_LT(r.exit_code, 128) << r.err;
  EXPECT_EQ(r.err.rfind("fsdpshard: error: ", 0), 0u) << r.err;
  EXPECT_TRUE(list_dir(folder).empty()) << "left behind in " << folder << ": " << list_dir(folder).front();
  EXPECT_EQ(read_file(input), input_before) << "the input changed";
}

TEST(Faults, DiskFullWhileWriting) {
  TempDir dir;
  const std::string input = copy_of_input(dir);
  const std::string before = read_file(input);
  // The gathered state dict is ~50 KB; 16 KiB fill up while it is written.
  Tmpfs small(dir.file("small"), "size=16k");
  if (!small.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root and a container that allows it)";
  for (const auto& [name, args] : kCommands) {
    SCOPED_TRACE(name);
    const auto r = run_fsdpshard(args(input, dir.file("small/out-") + name));
    expect_clean_failure(r, dir.file("small"), before, input);
    EXPECT_NE(r.err.find("no space left on device"), std::string::npos) << r.err;
    EXPECT_EQ(r.exit_code, 1) << r.err;
  }
}

TEST(Faults, FileSizeLimitWhileWriting) {
  TempDir dir;
  const std::string input = copy_of_input(dir);
  const std::string before = read_file(input);
  fs::create_directories(dir.file("out"));
  for (const auto& [name, args] : kCommands) {
    SCOPED_TRACE(name);
    // RLIMIT_FSIZE of 16 KiB with SIGXFSZ at its default (kill): fsdpshard ignores it
    // itself, so write() fails with EFBIG and the error path cleans up.
    std::vector<std::string> argv{"prlimit", "--fsize=16384", fsdpshard_binary()};
    const auto a = args(input, dir.file("out/result-") + name);
    argv.insert(argv.end(), a.begin(), a.end());
    const auto r = run(argv);
    expect_clean_failure(r, dir.file("out"), before, input);
    EXPECT_NE(r.err.find("file too large"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("result-"), std::string::npos) << "the message names the output: " << r.err;
  }
}

TEST(Faults, OutputFolderNotWritable) {
  TempDir dir;
  const std::string input = copy_of_input(dir);
  const std::string before = read_file(input);
  // Root ignores permission bits: a path below a regular file cannot be created by anyone.
  write_file(dir.file("plain-file"), "x");
  for (const auto& [name, args] : kCommands) {
    SCOPED_TRACE(name);
    const auto r = run_fsdpshard(args(input, dir.file("plain-file/out")));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_LT(r.exit_code, 128);
    EXPECT_EQ(r.err.rfind("fsdpshard: error: ", 0), 0u) << r.err;
    EXPECT_EQ(read_file(dir.file("plain-file")), "x");
    EXPECT_EQ(read_file(input), before);
  }
  // A read-only file system, where mounting is allowed.
  Tmpfs ro(dir.file("ro"), "ro,size=64k");
  if (!ro.mounted()) GTEST_SKIP() << "cannot mount a read-only tmpfs here";
  for (const auto& [name, args] : kCommands) {
    SCOPED_TRACE(name);
    const auto r = run_fsdpshard(args(input, dir.file("ro/out-") + name));
    expect_clean_failure(r, dir.file("ro"), before, input);
    EXPECT_NE(r.err.find("ead-only file system"), std::string::npos) << r.err;
  }
}

TEST(Faults, InputTruncatedBetweenPlanningAndReading) {
  for (const auto& [name, args] : kCommands) {
    SCOPED_TRACE(name);
    TempDir dir;
    const std::string input = copy_of_input(dir);
    fs::create_directories(dir.file("out"));
    fs::create_directories(dir.file("pause"));
    Background job([&] {
      std::vector<std::string> argv{fsdpshard_binary()};
      const auto a = args(input, dir.file("out/result"));
      argv.insert(argv.end(), a.begin(), a.end());
      return argv;
    }(), {"FSDPSHARD_TEST_PAUSE_AFTER_PLAN=" + dir.file("pause")}, dir);
    ASSERT_TRUE(job.started());
    ASSERT_TRUE(wait_for(dir.file("pause/planned.0"))) << job.err();
    // Planned from the whole file; now most tensor bytes are gone.
    fs::resize_file(input, fs::file_size(input) / 4);
    write_file(dir.file("pause/go"), "");
    const int code = job.wait();
    EXPECT_NE(code, 0);
    EXPECT_LT(code, 128) << job.err();
    EXPECT_NE(job.err().find("truncated"), std::string::npos) << job.err();
    EXPECT_NE(job.err().find(input), std::string::npos) << job.err();
    EXPECT_TRUE(list_dir(dir.file("out")).empty()) << list_dir(dir.file("out")).front();
  }
}

TEST(Faults, RankKilledUnderMpirun) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);
  for (const auto& [name, args] : kCommands) {
    SCOPED_TRACE(name);
    TempDir dir;
    const std::string input = copy_of_input(dir);
    const std::string before = read_file(input);
    fs::create_directories(dir.file("out"));
    fs::create_directories(dir.file("pause"));
    std::vector<std::string> argv{mpiexec(), "--oversubscribe", "--bind-to", "none", "-np", "2", fsdpshard_binary()};
    const auto a = args(input, dir.file("out/result"));
    argv.insert(argv.end(), a.begin(), a.end());
    argv.push_back("--backend");
    argv.push_back("mpi");
    // In mpirun's environment, which its ranks on this host inherit (no `-x`: see run_fsdpshard_mpi).
    Background job(argv, {"FSDPSHARD_TEST_PAUSE_AFTER_PLAN=" + dir.file("pause")}, dir);
    ASSERT_TRUE(job.started());
    ASSERT_TRUE(wait_for(dir.file("pause/planned.0")) && wait_for(dir.file("pause/planned.1"))) << job.err();
    // Rank 0 goes on (its output's temporary appears, then it waits for rank 1's bytes);
    // rank 1 dies without a chance to clean up.
    write_file(dir.file("pause/go.0"), "");
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!has_temp(dir.file("out")) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(has_temp(dir.file("out"))) << "rank 0 never started writing";
    const pid_t rank1 = std::stoi(read_file(dir.file("pause/planned.1")));
    ASSERT_EQ(::kill(rank1, SIGKILL), 0);
    const int code = job.wait();
    EXPECT_NE(code, 0) << job.err();
    // mpirun ends rank 0 with SIGTERM, whose handler removes the temporary output.
    const auto gone = Clock::now() + std::chrono::seconds(10);
    while (!list_dir(dir.file("out")).empty() && Clock::now() < gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(list_dir(dir.file("out")).empty()) << "left behind: " << list_dir(dir.file("out")).front();
    EXPECT_EQ(read_file(input), before);
  }
}

}  // namespace
}  // namespace fsdpshard::test
