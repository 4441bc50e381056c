// AtomicFile / AtomicDirectory: outputs appear whole or not at all, temporaries never
// survive (destructor, failure, SIGTERM), existing targets need overwrite.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "fsdpshard/archive/atomic_directory.h"
#include "fsdpshard/archive/atomic_file.h"
#include "fsdpshard/util/error.h"
#include "support/test_support.h"

namespace fsdpshard {
namespace {

using test::TempDir;
using Names = std::vector<std::string>;

std::string basename_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

TEST(AtomicFile, CommitWritesTargetAndLeavesNoTemp) {
  TempDir dir;
  const std::string target = dir.file("out.pt");
  {
    AtomicFile file(target, false);
    const std::string temp_name = basename_of(file.temp_path());
    EXPECT_EQ(temp_name.rfind(".out.pt.fsdpshard-tmp-" + std::to_string(getpid()) + "-", 0), 0u)
        << temp_name;
    EXPECT_FALSE(test::file_exists(target));
    file.write_all("hello", 5);
    file.commit();
    EXPECT_TRUE(file.committed());
  }
  EXPECT_EQ(test::read_file(target), "hello");
  EXPECT_EQ(test::list_dir(dir.path()), Names{"out.pt"});
}

TEST(AtomicFile, DestructorRemovesTemp) {
  TempDir dir;
  try {
    AtomicFile file(dir.file("out.pt"), false);
    file.write_all("partial", 7);
    EXPECT_EQ(test::list_dir(dir.path()).size(), 1u);
    throw std::runtime_error("failure in the middle");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
  {
    AtomicFile file(dir.file("out.pt"), false);
    file.abandon();
    EXPECT_TRUE(test::list_dir(dir.path()).empty());
    EXPECT_THROW(file.commit(), RuntimeFailure);
  }
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(AtomicFile, ExistingTargetNeedsOverwrite) {
  TempDir dir;
  const std::string target = dir.file("out.pt");
  test::write_file(target, "old");
  try {
    AtomicFile file(target, false);
    ADD_FAILURE() << "existing target accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), target + " exists (use --force to overwrite)");
  }
  EXPECT_EQ(test::read_file(target), "old");
  write_file_atomically(target, "new", true);
  EXPECT_EQ(test::read_file(target), "new");
  EXPECT_EQ(test::list_dir(dir.path()), Names{"out.pt"});
}

TEST(AtomicFile, TargetAppearingBeforeCommitIsRefused) {
  TempDir dir;
  const std::string target = dir.file("out.pt");
  AtomicFile file(target, false);
  file.write_all("mine", 4);
  test::write_file(target, "someone else's");
  EXPECT_THROW(file.commit(), InputError);
  EXPECT_EQ(test::read_file(target), "someone else's");
  file.abandon();
  EXPECT_EQ(test::list_dir(dir.path()), Names{"out.pt"});
}

TEST(AtomicFile, MissingFolderIsInputError) {
  TempDir dir;
  EXPECT_THROW(AtomicFile(dir.file("no/such/out.pt"), false), InputError);
  EXPECT_THROW(AtomicFile(dir.path(), true), InputError);  // a folder is not a file target
}

TEST(AtomicFile, ModeFollowsUmask) {
  TempDir dir;
  const mode_t old = umask(027);
  write_file_atomically(dir.file("a"), "x", false);
  umask(old);
  struct stat st {};
  ASSERT_EQ(stat(dir.file("a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(AtomicFile, RelativeTarget) {
  TempDir dir;
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(chdir(dir.path().c_str()), 0);
  write_file_atomically("plain", "x", false);
  ASSERT_EQ(chdir(cwd), 0);
  EXPECT_EQ(test::list_dir(dir.path()), Names{"plain"});
}

TEST(AtomicDirectory, CommitPublishesWholeFolder) {
  TempDir dir;
  const std::string target = dir.file("shards");
  {
    AtomicDirectory out(target, false);
    EXPECT_EQ(basename_of(out.temp_path()).rfind(".shards.fsdpshard-tmp-", 0), 0u);
    write_file_atomically(out.file("model-00001-of-00002.safetensors"), "one", false);
    test::write_file(out.file("model-00002-of-00002.safetensors"), "two");  // plain write
    EXPECT_FALSE(test::file_exists(target));
    out.commit();
  }
  EXPECT_EQ(test::list_dir(dir.path()), Names{"shards"});
  EXPECT_EQ(test::list_dir(target),
            (Names{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
}

TEST(AtomicDirectory, AbandonRemovesEverything) {
  TempDir dir;
  {
    AtomicDirectory out(dir.file("shards"), false);
    test::write_file(out.file("a"), "a");
    ASSERT_EQ(mkdir(out.file("sub").c_str(), 0777), 0);
    test::write_file(out.file("sub/b"), "b");
  }
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(AtomicDirectory, ExistingFolderNeedsForceAndIsReplaced) {
  TempDir dir;
  const std::string target = dir.file("shards");
  ASSERT_EQ(mkdir(target.c_str(), 0777), 0);
  // A previous output (archive/previous_output.h): an index and its one shard.
  test::write_file(target + "/pytorch_model.bin.index.json", "{}");
  test::write_file(target + "/pytorch_model-00001-of-00001.bin", "old");
  try {
    AtomicDirectory out(target, false);
    ADD_FAILURE() << "existing folder accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), target + " exists (use --force to overwrite)");
  }
  {
    AtomicDirectory out(target, true);
    test::write_file(out.file("new-file"), "new");
    out.commit();
  }
  EXPECT_EQ(test::list_dir(target), Names{"new-file"});
  EXPECT_EQ(test::list_dir(dir.path()), Names{"shards"});  // old contents gone
  // Anything that is not a previous output is never replaced, even with overwrite.
  EXPECT_THROW(AtomicDirectory(target, true), InputError);  // "new-file" is not ours
  EXPECT_EQ(test::list_dir(target), Names{"new-file"});
  test::write_file(dir.file("plain"), "x");
  EXPECT_THROW(AtomicDirectory(dir.file("plain"), true), InputError);
  EXPECT_THROW(AtomicDirectory(dir.file("no/such"), false), InputError);
}

// A child process creates temporaries, installs the handlers and waits; `sig` must
// remove them all and still kill the child by that signal.
void expect_signal_cleans_up(int sig) {
  TempDir dir;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    install_cleanup_signal_handlers();
    AtomicFile file(dir.file("out.pt"), false);
    file.write_all("partial", 7);
    AtomicDirectory folder(dir.file("shards"), false);
    test::write_file(folder.file("shard-1"), "1");
    AtomicFile inner(folder.file("shard-2"), false);
    if (write(ready[1], "r", 1) != 1) _exit(3);
    for (;;) pause();
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  EXPECT_EQ(test::list_dir(dir.path()).size(), 2u);  // the temp file and the temp folder
  ASSERT_EQ(kill(child, sig), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  if (WIFSIGNALED(status)) EXPECT_EQ(WTERMSIG(status), sig);
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

TEST(AtomicFile, SigtermRemovesTemporaries) { expect_signal_cleans_up(SIGTERM); }
TEST(AtomicFile, SigintRemovesTemporaries) { expect_signal_cleans_up(SIGINT); }
TEST(AtomicFile, SighupRemovesTemporaries) { expect_signal_cleans_up(SIGHUP); }

TEST(AtomicFile, RemoveTempOutputsNow) {
  TempDir dir;
  AtomicFile file(dir.file("out.pt"), false);
  AtomicDirectory folder(dir.file("shards"), false);
  test::write_file(folder.file("x"), "x");
  remove_temp_outputs_now();
  EXPECT_TRUE(test::list_dir(dir.path()).empty());
}

}  // namespace
}  // namespace fsdpshard
