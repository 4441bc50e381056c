// What the rest of fsdpshard sees of the NCCL backend (compiled only with
// FSDPSHARD_HAVE_NCCL).
#pragma once

#include <memory>

#include "fsdpshard/comm/communicator.h"

namespace fsdpshard {

// Number of CUDA devices this process sees; 0 when there is no driver or no device.
int cuda_device_count();

// True when `auto` should pick nccl: a GPU is visible and, where the launcher says how many
// ranks share this node, there are at least that many GPUs (NCCL refuses two ranks on one
// GPU). Reads the environment and the device count; starts neither MPI nor NCCL.
bool nccl_can_run_here();

// Initialises MPI if needed, gives each rank of a node its own GPU and builds the NCCL
// communicator. Collective: every rank calls it. RuntimeFailure on every rank if any rank
// cannot get a GPU.
std::unique_ptr<Communicator> make_nccl_communicator();

}  // namespace fsdpshard
