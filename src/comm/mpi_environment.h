// The process-wide MPI environment, shared by the mpi and nccl backends, and what the
// launcher (mpirun, srun, hydra) told this process through its environment variables.
#pragma once

#include <string>

namespace fsdpshard {

// Initialises MPI the first time it is called and registers MPI_Finalize to run at exit.
// Thread level FUNNELED: fsdpshard may read files on helper threads, but only the main
// thread calls MPI. If something else already initialised MPI, it also owns finalising.
// RuntimeFailure if MPI cannot start.
void ensure_mpi_initialized();

// Turns an MPI return code into a RuntimeFailure "<what>: <MPI's error string>".
// Communicators use MPI_ERRORS_RETURN, so failures come back as codes.
void check_mpi(int code, const std::string& what);

// What the launcher says, read from environment variables only (MPI is not touched):
// the number of processes it started (0 when unknown), this process's index among those on
// its node (-1 when unknown) and how many share the node (0 when unknown).
int launcher_world_size();
int launcher_local_rank();
int launcher_local_size();
// This process's rank in the whole job (-1 when unknown or not started by a launcher).
int launcher_rank();

}  // namespace fsdpshard
