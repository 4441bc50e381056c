// CUDA and NCCL return codes -> RuntimeFailure carrying the library's own words.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <string>

namespace fsdpshard {

// "<what>: <cudaGetErrorString>" unless `code` is cudaSuccess.
void check_cuda(cudaError_t code, const std::string& what);
// "<what>: <ncclGetErrorString> (<ncclGetLastError>)" unless `code` is ncclSuccess.
void check_nccl(ncclResult_t code, const std::string& what);

}  // namespace fsdpshard
