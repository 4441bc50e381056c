#include "comm/nccl/cuda_check.h"

#include "fsdpshard/util/error.h"

namespace fsdpshard {

void check_cuda(cudaError_t code, const std::string& what) {
  if (code == cudaSuccess) return;
  throw RuntimeFailure(what + ": " + cudaGetErrorString(code));
}

void check_nccl(ncclResult_t code, const std::string& what) {
  if (code == ncclSuccess) return;
  std::string message = what + ": " + ncclGetErrorString(code);
  // NCCL keeps a more specific reason ("Duplicate GPU detected ...") aside.
  const char* last = ncclGetLastError(nullptr);
  if (last != nullptr && *last != '\0') message += std::string(" (") + last + ")";
  throw RuntimeFailure(message);
}

}  // namespace fsdpshard
