// Under an MPI launcher every rank runs the same command line. What shares no work over
// the ranks — the command line itself, inspect, cfg — is done and reported by rank 0
// alone, so that a job prints one error line (not one per rank), exits with the
// documented code on every rank without MPI_Abort, and two ranks never write one file.
#pragma once

#include <functional>

namespace fsdpshard {

// True in a process that an MPI launcher started as a rank other than 0 (read from the
// launcher's environment: works before MPI is initialised, e.g. for usage errors).
bool is_launched_non_zero_rank();

// Runs `command` and returns its exit code; an exception is reported as
// report_current_exception() does. Under an MPI launcher only rank 0 runs it and every
// rank returns rank 0's code.
int run_on_rank0(const std::function<int()>& command);

}  // namespace fsdpshard
