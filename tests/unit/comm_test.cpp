// The local backend, backend selection, and launcher detection. The mpi and nccl backends
// need mpirun: tests/mpi/*_check.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "comm/mpi_environment.h"
#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

// Clears every launcher variable for the test's lifetime and restores them after.
class CleanLauncherEnvironment {
 public:
  CleanLauncherEnvironment() {
    for (const char* name : kNames) {
      if (const char* value = std::getenv(name)) saved_[name] = value;
      unsetenv(name);
    }
  }
  ~CleanLauncherEnvironment() {
    for (const char* name : kNames) unsetenv(name);
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  static constexpr const char* kNames[] = {
      "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
      "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK",
      "MV2_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS", "SLURM_STEP_ID",
      "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID"};
  std::map<std::string, std::string> saved_;
};

TEST(CommLocal, IsOneRank) {
  auto comm = make_communicator("local");
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_EQ(comm->backend(), "local");
}

TEST(CommLocal, SendAndRecvAreUsageErrors) {
  auto comm = make_communicator("local");
  char byte = 0;
  EXPECT_THROW(comm->send(&byte, 1, 0, 0), std::logic_error);  // to itself
  EXPECT_THROW(comm->recv(&byte, 1, 0, 0), std::logic_error);
  EXPECT_THROW(comm->send(&byte, 1, 1, 0), std::logic_error);  // no such rank
  EXPECT_THROW(comm->isend(&byte, 1, 0, 0), std::logic_error);
  try {
    comm->send(&byte, 1, 0, 0);
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("itself"), std::string::npos) << e.what();
  }
}

TEST(CommLocal, CollectivesAreTrivial) {
  auto comm = make_communicator("local");
  comm->barrier();
  std::string text = "unchanged";
  comm->broadcast(text, 0);
  EXPECT_EQ(text, "unchanged");
  EXPECT_THROW(comm->broadcast(text, 1), std::logic_error);
  EXPECT_TRUE(comm->all_ok(true));
  EXPECT_FALSE(comm->all_ok(false));
  EXPECT_EQ(comm->sum(42), 42u);
  EXPECT_EQ(comm->sum(~0ull), ~0ull);
}

TEST(CommLocal, AbortEndsTheProcessWithTheCode) {
  auto comm = make_communicator("local");
  EXPECT_EXIT(comm->abort(3), ::testing::ExitedWithCode(3), "");
}

TEST(CommMake, UnknownNameListsTheChoices) {
  try {
    make_communicator("gloo");
    FAIL() << "no exception";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("gloo"), std::string::npos) << message;
    EXPECT_NE(message.find("auto, local, mpi or nccl"), std::string::npos) << message;
  }
}

#ifndef FSDPSHARD_HAVE_NCCL
TEST(CommMake, NcclNotBuiltIsAnInputError) {
  try {
    make_communicator("nccl");
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("built without NCCL"), std::string::npos) << e.what();
  }
}
#endif

TEST(CommMake, AutoWithoutLauncherIsLocal) {
  CleanLauncherEnvironment clean;
  EXPECT_EQ(make_communicator("auto")->backend(), "local");
}

TEST(CommLauncher, NotLaunchedInPlainCtest) {
  // ctest is not mpirun: unless someone ran ctest itself under a launcher, nothing is set.
  if (std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK") ||
      std::getenv("SLURM_STEP_ID")) {
    GTEST_SKIP() << "ctest itself runs under a launcher";
  }
  EXPECT_FALSE(launched_by_mpi());
}

TEST(CommLauncher, ReadsEachLauncherFamily) {
  CleanLauncherEnvironment clean;
  EXPECT_FALSE(launched_by_mpi());
  EXPECT_EQ(launcher_world_size(), 0);
  EXPECT_EQ(launcher_local_rank(), -1);

  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "2", 1);
  setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "3", 1);
  EXPECT_TRUE(launched_by_mpi());
  EXPECT_EQ(launcher_world_size(), 4);
  EXPECT_EQ(launcher_local_rank(), 2);
  EXPECT_EQ(launcher_local_size(), 3);
  unsetenv("OMPI_COMM_WORLD_SIZE");
  unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
  unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");

  setenv("PMI_SIZE", "2", 1);
  EXPECT_TRUE(launched_by_mpi());
  EXPECT_EQ(launcher_world_size(), 2);
  unsetenv("PMI_SIZE");

  setenv("PMIX_RANK", "0", 1);
  EXPECT_TRUE(launched_by_mpi());
  unsetenv("PMIX_RANK");

  // srun: a job step, not the batch script (which has SLURM_PROCID but no step id).
  setenv("SLURM_PROCID", "0", 1);
  EXPECT_FALSE(launched_by_mpi());
  setenv("SLURM_STEP_ID", "0", 1);
  setenv("SLURM_STEP_NUM_TASKS", "8", 1);
  setenv("SLURM_LOCALID", "5", 1);
  EXPECT_TRUE(launched_by_mpi());
  EXPECT_EQ(launcher_world_size(), 8);
  EXPECT_EQ(launcher_local_rank(), 5);

  setenv("SLURM_STEP_NUM_TASKS", "not a number", 1);
  EXPECT_EQ(launcher_world_size(), 0);
}

}  // namespace
}  // namespace fsdpshard
