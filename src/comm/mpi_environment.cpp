#include "comm/mpi_environment.h"

#include <mpi.h>

#include <cstdlib>
#include <initializer_list>

#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

// The first variable of `names` that is set, parsed as a non-negative int; -1 if none is.
int first_int(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    char* end = nullptr;
    const long parsed = std::strtol(value, &end, 10);
    if (*end == '\0' && parsed >= 0 && parsed <= 1 << 30) return static_cast<int>(parsed);
  }
  return -1;
}

bool is_set(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0';
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

void check_mpi(int code, const std::string& what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  const std::string reason = length > 0 ? std::string(text, length) : "error " + std::to_string(code);
  throw RuntimeFailure(what + ": " + reason);
}

void ensure_mpi_initialized() {
  // A function-local static: initialised once, even if two threads race here.
  static const bool initialized = [] {
    int already = 0;
    MPI_Initialized(&already);
    if (already) return true;
    // A rank waiting for a peer's bytes would otherwise spin at full speed, taking the core
    // that the peer needs to read and cast them: with 2 ranks on 2 busy cores a gather took
    // 5.9 s spinning and 0.28 s yielding (benchmarks/RESULTS.md). Open MPI reads its MCA
    // parameters from the environment at init; a value the user set is kept.
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    int provided = 0;
    // MPI_Init's errors are fatal by default in Open MPI, so a failure usually ends the
    // process with MPI's own message before this check runs.
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided),
              "MPI_Init_thread");
    std::atexit(finalize_at_exit);
    return true;
  }();
  (void)initialized;
}

// Each launcher family sets its own variables: Open MPI's mpirun (OMPI_*), MPICH/Intel
// hydra (PMI_*), PMIx-based launchers including srun --mpi=pmix (PMIX_RANK), MVAPICH
// (MV2_*), and srun itself (SLURM_STEP_*: set for job steps, not in the batch script).
bool launched_by_mpi() {
  return is_set("OMPI_COMM_WORLD_SIZE") || is_set("PMI_SIZE") || is_set("PMI_RANK") ||
         is_set("PMIX_RANK") || is_set("MV2_COMM_WORLD_SIZE") ||
         (is_set("SLURM_STEP_ID") && is_set("SLURM_PROCID"));
}

int launcher_world_size() {
  const int size = first_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE",
                              "SLURM_STEP_NUM_TASKS"});
  return size < 0 ? 0 : size;
}

int launcher_local_rank() {
  return first_int({"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "MV2_COMM_WORLD_LOCAL_RANK",
                    "SLURM_LOCALID"});
}

int launcher_local_size() {
  const int size = first_int({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS",
                              "MV2_COMM_WORLD_LOCAL_SIZE"});
  return size < 0 ? 0 : size;
}

int launcher_rank() {
  if (!launched_by_mpi()) return -1;
  return first_int({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK", "SLURM_PROCID"});
}

}  // namespace fsdpshard
