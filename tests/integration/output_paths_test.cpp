// Outputs never cost a user data (issue 11), and bad input under mpirun is said once:
//  - --force on a folder replaces a previous fsdpshard output and nothing else; an output
//    folder that is, or holds, an input is refused, as is a file output that is an input;
//  - an existing non-regular -o (device, FIFO, socket, folder, dangling link) is refused
//    and its node kept, /dev/null included;
//  - in-place and --force replacements keep symbolic links, modes and owners;
//  - output paths that cannot work (trailing '/', missing or non-folder parent) are
//    refused before any work;
//  - under mpirun -np 2 and 3, a bad input or usage gives exactly one error line, exit 2
//    on every rank and no MPI_ABORT banner.
// Every refusal is checked to leave the folders involved exactly as they were.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

namespace fs = std::filesystem;

std::string real_fsdp(const std::string& name) { return source_dir() + "/tests/fixtures/fsdp/" + name; }

int error_lines(const std::string& err) {
  int count = 0;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) count += line.rfind("fsdpshard: error: ", 0) == 0 ? 1 : 0;
  return count;
}

// Exit 2 with one error line that says `what`, no crash, no abort banner.
void expect_refused(const CommandResult& r, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(error_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(what), std::string::npos) << "expected '" << what << "' in: " << r.err;
  EXPECT_EQ(r.err.find("MPI_ABORT"), std::string::npos) << r.err;
}

// Everything under `root` (names, kinds, modes, link targets, bytes), to prove a refusal
// changed nothing.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> seen;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    const std::string path = it->path().string();
    ::lstat(path.c_str(), &st);
    std::string what = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
    if (S_ISLNK(st.st_mode)) {
      what += " -> " + fs::read_symlink(it->path()).string();
    } else if (S_ISREG(st.st_mode)) {
      what += " " + read_file(path);
    } else if (S_ISCHR(st.st_mode)) {
      what += " rdev " + std::to_string(st.st_rdev);
    }
    seen[fs::relative(it->path(), root).string()] = what;
  }
  return seen;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

void copy(const std::string& from, const std::string& to) {
  fs::create_directories(fs::path(to).parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

std::string training() { return fixture("training/checkpoint.th"); }

// ---- 1. --force on folders, outputs that are inputs -------------------------------

TEST(OutputPaths, ReshardForceNeverDeletesTheInputOrItsNeighbours) {
  TempDir dir;
  const std::string work = dir.file("work");
  copy(training(), work + "/ck.th");
  write_file(work + "/notes.txt", "mine");
  copy(training(), work + "/deeper/ck.th");
  const auto before = snapshot(dir.path());
  // The input's folder, a grandparent of an input, the folder through a link; shard and rank outputs.
  expect_refused(run_fsdpshard({"reshard", work + "/ck.th", "-o", work, "--shards", "2", "--force"}),
                 "not an output of fsdpshard");
  expect_refused(run_fsdpshard({"reshard", work + "/deeper/ck.th", "-o", work, "--shards", "2", "--force"}),
                 "not an output of fsdpshard");
  fs::create_directory_symlink(work, dir.file("link"));
  const auto with_link = snapshot(dir.path());
  expect_refused(run_fsdpshard({"reshard", work + "/ck.th", "-o", dir.file("link"), "--shards", "2", "--force"}),
                 "not a folder");
  expect_refused(run_fsdpshard({"reshard", "--world", "3", real_fsdp("w2"), "-o", work, "--force"}),
                 "not an output of fsdpshard");
  EXPECT_EQ(snapshot(dir.path()), with_link);
  fs::remove(dir.file("link"));
  EXPECT_EQ(snapshot(dir.path()), before);
}

TEST(OutputPaths, AnOutputFolderThatIsOrHoldsAnInputIsRefusedEvenWhenItLooksLikeOurs) {
  TempDir dir;
  // A shard set and an FSDP run: exactly what fsdpshard writes, so only the input check stands in the way.
  const std::string shards = dir.file("shards");
  ASSERT_EQ(run_fsdpshard({"reshard", training(), "-o", shards, "--shards", "2", "-q"}).exit_code, 0);
  const std::string run = dir.file("run");
  copy(real_fsdp("w2/checkpoint.th"), run + "/checkpoint.th");
  copy(real_fsdp("w2/checkpoint.th.1"), run + "/checkpoint.th.1");
  fs::create_directory_symlink(shards, dir.file("shards-link"));
  const auto before = snapshot(dir.path());
  expect_refused(run_fsdpshard({"reshard", shards, "-o", shards, "--shards", "3", "--force"}), "the input");
  expect_refused(run_fsdpshard({"reshard", dir.file("shards-link"), "-o", shards, "--shards", "3", "--force"}),
                 "the input");
  expect_refused(run_fsdpshard({"reshard", "--world", "3", run, "-o", run, "--force"}), "input");
  expect_refused(run_fsdpshard({"reshard", "--world", "3", run + "/checkpoint.th", "-o", run, "--force"}), "input");
  // The same under mpirun: every rank agrees, nothing is written.
  const auto mpi = run_fsdpshard_mpi(2, {"reshard", "--world", "3", run, "-o", run, "--force"});
  expect_refused(mpi, "input");
  EXPECT_EQ(snapshot(dir.path()), before);
}

TEST(OutputPaths, AFileOutputThatIsAnInputIsRefusedThroughLinks) {
  TempDir dir;
  copy(training(), dir.file("ck.th"));
  ASSERT_EQ(::link(dir.file("ck.th").c_str(), dir.file("hard.th").c_str()), 0);
  fs::create_symlink("ck.th", dir.file("soft.th"));
  ASSERT_EQ(run_fsdpshard({"reshard", training(), "-o", dir.file("shards"), "--shards", "2", "-q"}).exit_code, 0);
  const auto before = snapshot(dir.path());
  for (const char* out : {"hard.th", "soft.th"}) {
    SCOPED_TRACE(out);
    expect_refused(run_fsdpshard({"gather", dir.file("ck.th"), "-o", dir.file(out), "--force"}), "input");
    expect_refused(run_fsdpshard({"cfg", dir.file("ck.th"), "-o", dir.file(out), "--force", "--set", "x=1"}),
                   "input");
  }
  // A member of a shard set, its index and config.yaml are inputs too.
  for (const char* member : {"pytorch_model-00001-of-00002.bin", "pytorch_model.bin.index.json", "config.yaml"}) {
    SCOPED_TRACE(member);
    expect_refused(run_fsdpshard({"gather", dir.file("shards"), "-o", dir.file("shards/") + member, "--force"}),
                   "is the input");
  }
  expect_refused(run_fsdpshard_mpi(2, {"gather", dir.file("ck.th"), "-o", dir.file("soft.th"), "--force"}), "input");
  EXPECT_EQ(snapshot(dir.path()), before);
}

TEST(OutputPaths, ForceReplacesAPreviousOutputAndOnlyThat) {
  TempDir dir;
  const std::string out = dir.file("out");
  ASSERT_EQ(run_fsdpshard({"reshard", training(), "-o", out, "--shards", "3", "-q"}).exit_code, 0);
  // Another shard count replaces the old set entirely: no stale shard is left behind.
  const auto again = run_fsdpshard({"reshard", training(), "-o", out, "--shards", "2", "--format", "safetensors",
                                    "--force", "-q"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(list_dir(out), (std::vector<std::string>{"config.yaml", "model-00001-of-00002.safetensors",
                                                     "model-00002-of-00002.safetensors",
                                                     "model.safetensors.index.json"}));
  const auto c = run_python("check_shards.py", {out, training(), "best_state.model", "--format", "safetensors",
                                                "--shards", "2"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;

  // FSDP rank files replace rank files (3 -> 2 ranks), and an empty folder may be replaced.
  const std::string ranks = dir.file("ranks"), mid = dir.file("mid");
  ASSERT_EQ(run_fsdpshard({"reshard", "--world", "3", real_fsdp("w2"), "-o", ranks, "-q"}).exit_code, 0);
  ASSERT_EQ(run_fsdpshard({"reshard", "--world", "3", real_fsdp("w2"), "-o", mid, "-q"}).exit_code, 0);
  // 2 -> 3 -> 2 gives the original rank files back (fsdp_reshard_test), written over 3 rank files.
  const auto back = run_fsdpshard({"reshard", "--world", "2", mid, "-o", ranks, "--force", "-q"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(list_dir(ranks), (std::vector<std::string>{"checkpoint.th", "checkpoint.th.1"}));
  const auto same = run_python("check_fsdp_ranks.py", {"same", ranks, real_fsdp("w2")});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  fs::create_directory(dir.file("empty"));
  EXPECT_EQ(run_fsdpshard({"reshard", training(), "-o", dir.file("empty"), "--shards", "1", "--force", "-q"}).exit_code,
            0);

  // One file that is not ours, and the folder is not replaced; nor when a shard is missing.
  write_file(out + "/README.md", "my notes");
  const auto before = snapshot(dir.path());
  expect_refused(run_fsdpshard({"reshard", training(), "-o", out, "--shards", "2", "--force"}), "README.md");
  expect_refused(run_fsdpshard_mpi(2, {"reshard", training(), "-o", out, "--shards", "2", "--force"}), "README.md");
  fs::remove(out + "/README.md");
  fs::remove(out + "/model-00002-of-00002.safetensors");
  const auto incomplete = snapshot(dir.path());
  expect_refused(run_fsdpshard({"reshard", training(), "-o", out, "--shards", "2", "--force"}),
                 "not an output of fsdpshard");
  EXPECT_EQ(snapshot(dir.path()), incomplete);
  // A sub-folder is never ours either.
  fs::create_directory(ranks + "/logs");
  expect_refused(run_fsdpshard({"reshard", "--world", "2", real_fsdp("w3"), "-o", ranks, "--force"}), "logs");
  EXPECT_TRUE(fs::is_directory(ranks + "/logs"));
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"empty", "mid", "out", "ranks"}));  // no temporary left
}

// ---- 2. non-regular outputs ---------------------------------------------------------

TEST(OutputPaths, NonRegularOutputsAreRefusedAndKeepTheirNode) {
  TempDir dir;
  copy(training(), dir.file("ck.th"));
  // A character device of our own, like /dev/null (1, 3), a FIFO, a socket, a folder, a dangling link.
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::mknod(dir.file("null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  }
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = dir.file("sock");
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  fs::create_directory(dir.file("folder"));
  fs::create_symlink("nowhere.th", dir.file("dangling"));
  fs::create_symlink("/dev/null", dir.file("to-null"));
  const auto before = snapshot(dir.path());

  std::vector<std::pair<std::string, std::string>> outputs = {
      {"fifo", "a FIFO"}, {"sock", "a socket"}, {"folder", "a folder"}, {"dangling", "symbolic link to nothing"},
      {"to-null", "a character device"}};
  if (root) outputs.emplace_back("null", "a character device");
  for (const auto& [name, what] : outputs) {
    SCOPED_TRACE(name);
    expect_refused(run_fsdpshard({"gather", dir.file("ck.th"), "-o", dir.file(name), "--force"}), what);
    expect_refused(run_fsdpshard({"cfg", dir.file("ck.th"), "-o", dir.file(name), "--force", "--set", "x=1"}), what);
  }
  expect_refused(run_fsdpshard_mpi(2, {"gather", dir.file("ck.th"), "-o", dir.file("fifo"), "--force"}), "a FIFO");
  expect_refused(run_fsdpshard({"reshard", dir.file("ck.th"), "-o", dir.file("fifo"), "--shards", "1", "--force"}),
                 "not a folder");
  EXPECT_EQ(snapshot(dir.path()), before);
  ::close(sock);

  // /dev/null itself stays the character device 1,3.
  expect_refused(run_fsdpshard({"gather", dir.file("ck.th"), "-o", "/dev/null", "--force"}), "a character device");
  struct stat st {};
  ASSERT_EQ(::lstat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
}

// ---- 3. in-place and --force keep links, modes, owners -------------------------------

TEST(OutputPaths, CfgInPlaceOnALinkEditsTheTargetAndKeepsLinkModeAndOwner) {
  TempDir dir;
  copy(training(), dir.file("pristine.th"));
  copy(training(), dir.file("real.th"));
  ASSERT_EQ(::chmod(dir.file("real.th").c_str(), 0600), 0);
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(dir.file("real.th").c_str(), 1234, 5678), 0);
  }
  fs::create_symlink("real.th", dir.file("link.th"));
  const auto r = run_fsdpshard({"cfg", dir.file("link.th"), "--in-place", "--set", "optim.lr=1e-5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir.file("link.th")));
  EXPECT_EQ(fs::read_symlink(dir.file("link.th")).string(), "real.th");
  EXPECT_EQ(mode_of(dir.file("real.th")) & 07777, 0600u);
  if (root) {
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("real.th").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
  }
  const auto c = run_python("cfg_check.py", {dir.file("pristine.th"), dir.file("link.th"), "--set", "optim.lr=1e-5"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  // Nothing else appeared (no temporary file, the link not replaced).
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"link.th", "pristine.th", "real.th"}));
}

TEST(OutputPaths, ForceKeepsTheReplacedFilesModeAndNewFilesFollowTheUmask) {
  TempDir dir;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ASSERT_EQ(run_fsdpshard({"gather", training(), "-o", dir.file("new.th"), "-q"}).exit_code, 0);
  EXPECT_EQ(mode_of(dir.file("new.th")) & 07777, 0666u & ~mask);

  write_file(dir.file("old.th"), "an older output");
  ASSERT_EQ(::chmod(dir.file("old.th").c_str(), 0640), 0);
  fs::create_symlink("old.th", dir.file("via-link.th"));
  ASSERT_EQ(run_fsdpshard({"gather", training(), "-o", dir.file("via-link.th"), "--force", "-q"}).exit_code, 0);
  EXPECT_TRUE(fs::is_symlink(dir.file("via-link.th")));
  EXPECT_EQ(mode_of(dir.file("old.th")) & 07777, 0640u);
  const auto same = run_python("compare_checkpoints.py", {dir.file("old.th"), dir.file("new.th")});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;

  // A replaced output folder keeps its mode, and each replaced file its own.
  const std::string shards = dir.file("shards");
  ASSERT_EQ(run_fsdpshard({"reshard", training(), "-o", shards, "--shards", "2", "-q"}).exit_code, 0);
  ASSERT_EQ(::chmod(shards.c_str(), 0700), 0);
  ASSERT_EQ(::chmod((shards + "/config.yaml").c_str(), 0600), 0);
  ASSERT_EQ(run_fsdpshard({"reshard", training(), "-o", shards, "--shards", "2", "--force", "-q",
                           "--set", "optim.lr=1e-5"}).exit_code, 0);
  EXPECT_EQ(mode_of(shards) & 07777, 0700u);
  EXPECT_EQ(mode_of(shards + "/config.yaml") & 07777, 0600u);
  EXPECT_NE(read_file(shards + "/config.yaml").find("1.0e-05"), std::string::npos) << read_file(shards + "/config.yaml");
}

// ---- 4. output paths that cannot work ------------------------------------------------

TEST(OutputPaths, ImpossibleOutputPathsAreRefusedBeforeAnyWork) {
  TempDir dir;
  copy(training(), dir.file("ck.th"));
  fs::create_directory(dir.file("out"));
  const auto before = snapshot(dir.path());
  const std::string ck = dir.file("ck.th");
  expect_refused(run_fsdpshard({"gather", ck, "-o", dir.file("out/name.th/")}), "ends with '/'");
  expect_refused(run_fsdpshard({"gather", ck, "-o", dir.file("out/name.th/"), "--force"}), "ends with '/'");
  expect_refused(run_fsdpshard({"cfg", ck, "-o", dir.file("out/name.th/"), "--set", "x=1"}), "ends with '/'");
  expect_refused(run_fsdpshard({"gather", ck, "-o", dir.file("missing/name.th")}), "does not exist");
  expect_refused(run_fsdpshard({"gather", ck, "-o", dir.file("ck.th/name.th")}), "is not a folder");
  expect_refused(run_fsdpshard({"gather", ck, "-o", dir.file("ck.th/deeper/name.th")}), "is not a folder");
  expect_refused(run_fsdpshard({"cfg", ck, "-o", dir.file("missing/name.th"), "--set", "x=1"}), "does not exist");
  expect_refused(run_fsdpshard({"reshard", ck, "-o", dir.file("missing/shards"), "--shards", "2"}), "does not exist");
  expect_refused(run_fsdpshard({"reshard", ck, "-o", dir.file("ck.th/shards"), "--shards", "2"}), "is not a folder");
  expect_refused(run_fsdpshard({"reshard", ck, "-o", ck, "--shards", "2", "--force"}), "not a folder");
  // Said before the input is even read: a broken input does not hide it.
  write_file(dir.file("broken.th"), "not a checkpoint");
  const auto early = snapshot(dir.path());
  expect_refused(run_fsdpshard({"gather", dir.file("broken.th"), "-o", dir.file("out/name.th/")}), "ends with '/'");
  // Under mpirun: one line, exit 2, no abort (it used to fail at the rename, exit 1 + MPI_ABORT).
  expect_refused(run_fsdpshard_mpi(2, {"gather", ck, "-o", dir.file("out/name.th/")}), "ends with '/'");
  EXPECT_EQ(snapshot(dir.path()), early);
  fs::remove(dir.file("broken.th"));
  EXPECT_EQ(snapshot(dir.path()), before);
}

// ---- 5. under mpirun: one line, one exit code, no abort ------------------------------

TEST(OutputPaths, UnderMpirunABadInputIsOneLineExitTwoAndNoAbort) {
  TempDir dir;
  write_file(dir.file("bad.th"), std::string(200, 'x'));
  copy(training(), dir.file("ck.th"));
  const auto before = snapshot(dir.path());
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    expect_refused(run_fsdpshard_mpi(ranks, {"gather", dir.file("bad.th"), "-o", dir.file("out.th")}), "bad.th");
    expect_refused(run_fsdpshard_mpi(ranks, {"reshard", dir.file("bad.th"), "-o", dir.file("out"), "--shards", "2"}),
                   "bad.th");
    expect_refused(run_fsdpshard_mpi(ranks, {"verify", dir.file("bad.th"), dir.file("ck.th")}), "bad.th");
    expect_refused(run_fsdpshard_mpi(ranks, {"inspect", dir.file("bad.th")}), "bad.th");
    expect_refused(run_fsdpshard_mpi(ranks, {"cfg", dir.file("bad.th"), "-o", dir.file("c.th"), "--set", "x=1"}),
                   "bad.th");
    // Usage errors, found before MPI starts: also once.
    expect_refused(run_fsdpshard_mpi(ranks, {"gather", dir.file("ck.th"), "-o", dir.file("out.th"), "--rename", "x("}),
                   "--rename");
    expect_refused(run_fsdpshard_mpi(ranks, {"reshard", dir.file("ck.th"), "-o", dir.file("out")}), "--shards");
    // CLI11's own message (not ours), printed by rank 0 only.
    const auto missing = run_fsdpshard_mpi(ranks, {"gather", dir.file("ck.th")});
    EXPECT_EQ(missing.exit_code, 2) << missing.err;
    const std::string required = "--output is required";
    const std::size_t first = missing.err.find(required);
    EXPECT_NE(first, std::string::npos) << missing.err;
    EXPECT_EQ(missing.err.find(required, first + 1), std::string::npos) << "said twice: " << missing.err;
    // An existing output without --force.
    expect_refused(run_fsdpshard_mpi(ranks, {"gather", dir.file("ck.th"), "-o", dir.file("bad.th")}), "exists");
    EXPECT_EQ(snapshot(dir.path()), before);
  }
}

// Each rank runs in its own folder, <dir>/<rank>, where `ck.th` is good or bad per rank:
// a failure only some ranks see is still said once, by rank 0, with every rank's exit 2.
CommandResult gather_with_a_folder_per_rank(const std::string& dir, int ranks) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);
  return run({mpiexec(), "--oversubscribe", "--bind-to", "none", "-np", std::to_string(ranks), "sh", "-c",
              "cd \"$0/$OMPI_COMM_WORLD_RANK\" && exec \"$1\" gather ck.th -o out.th -q", dir, fsdpshard_binary()});
}

TEST(OutputPaths, UnderMpirunAFailureOnlyOneRankSawIsSaidOnceByRankZero) {
  for (int bad_rank : {1, 0, 2}) {
    SCOPED_TRACE("bad input on rank " + std::to_string(bad_rank));
    TempDir dir;
    for (int r = 0; r < 3; ++r) {
      const std::string ck = dir.file(std::to_string(r) + "/ck.th");
      if (r == bad_rank) {
        fs::create_directories(dir.file(std::to_string(r)));
        write_file(ck, std::string(100, 'x'));
      } else {
        copy(training(), ck);
      }
    }
    const auto before = snapshot(dir.path());
    const auto result = gather_with_a_folder_per_rank(dir.path(), 3);
    expect_refused(result, "ck.th: not a zip archive");
    const bool named = result.err.find("(on rank " + std::to_string(bad_rank) + ")") != std::string::npos;
    EXPECT_EQ(named, bad_rank != 0) << result.err;
    EXPECT_EQ(snapshot(dir.path()), before);
  }
}

TEST(OutputPaths, UnderMpirunCfgAndInspectRunOnceOnRankZero) {
  TempDir dir;
  copy(training(), dir.file("ck.th"));
  // Every rank used to write the same file: one of them then failed with "exists".
  const auto r = run_fsdpshard_mpi(2, {"cfg", dir.file("ck.th"), "-o", dir.file("c.th"), "--set", "optim.lr=1e-5"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"c.th", "ck.th"}));
  const auto c = run_python("cfg_check.py", {dir.file("ck.th"), dir.file("c.th"), "--set", "optim.lr=1e-5"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  const auto shown = run_fsdpshard_mpi(3, {"inspect", dir.file("ck.th")});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  const auto alone = run_fsdpshard({"inspect", dir.file("ck.th")});
  EXPECT_EQ(shown.out, alone.out);  // printed once, not once per rank
}

}  // namespace
}  // namespace fsdpshard::test
