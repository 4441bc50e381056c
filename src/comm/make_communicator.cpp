// Choosing a backend by name (the --backend option).
#include "comm/backends.h"
#include "fsdpshard/util/error.h"

#ifdef FSDPSHARD_HAVE_NCCL
#include "comm/nccl/nccl_backend.h"
#endif

namespace fsdpshard {

std::unique_ptr<Communicator> make_communicator(const std::string& name) {
  if (name == "local") return make_local_communicator();
  if (name == "mpi") return make_mpi_communicator();
  if (name == "nccl") {
#ifdef FSDPSHARD_HAVE_NCCL
    return make_nccl_communicator();
#else
    throw InputError("this fsdpshard was built without NCCL (CUDA/NCCL not found at build time)");
#endif
  }
  if (name == "auto") {
    // Decided from the environment alone, so a plain run never starts MPI or CUDA.
    if (!launched_by_mpi()) return make_local_communicator();
#ifdef FSDPSHARD_HAVE_NCCL
    if (nccl_can_run_here()) return make_nccl_communicator();
#endif
    return make_mpi_communicator();
  }
  throw InputError("unknown backend '" + name + "': choose auto, local, mpi or nccl");
}

}  // namespace fsdpshard
