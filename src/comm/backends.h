// Constructors of the individual backends, for make_communicator and tests.
#pragma once

#include <memory>

#include "fsdpshard/comm/communicator.h"

namespace fsdpshard {

std::unique_ptr<Communicator> make_local_communicator();
// Initialises MPI on first use (mpi_environment.h).
std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace fsdpshard
