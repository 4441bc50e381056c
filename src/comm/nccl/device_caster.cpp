#include "comm/nccl/device_caster.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "comm/nccl/cast_kernels.h"
#include "comm/nccl/cuda_check.h"

namespace fsdpshard {

DeviceCaster::~DeviceCaster() {
  // Errors are ignored: nothing useful can be done about them while tearing down.
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  if (device_in_ != nullptr) cudaFree(device_in_);
  if (device_out_ != nullptr) cudaFree(device_out_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void DeviceCaster::allocate() {
  if (stream_ != nullptr) return;
  // Every member is set only once the calls before it worked, so a failure here leaves
  // the destructor exactly what to free.
  check_cuda(cudaMalloc(&device_in_, kPieceBytes), "device cast: cudaMalloc");
  check_cuda(cudaMalloc(&device_out_, kPieceBytes), "device cast: cudaMalloc");
  cudaStream_t stream = nullptr;
  check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "device cast: cudaStreamCreate");
  stream_ = stream;
}

void DeviceCaster::cast(const void* source, DType from, void* target, DType to, std::size_t count) {
  if (!device_cast_supported(from, to)) {
    throw std::invalid_argument("device cast: no kernel for " + std::string(torch_name(from)) + " -> " +
                                std::string(torch_name(to)));
  }
  if (count == 0) return;
  allocate();
  const std::size_t in_size = element_size(from), out_size = element_size(to);
  const std::size_t piece = kPieceBytes / std::max(in_size, out_size);
  const auto* in = static_cast<const char*>(source);
  auto* out = static_cast<char*>(target);
  for (std::size_t first = 0; first < count; first += piece) {
    const std::size_t n = std::min(piece, count - first);
    check_cuda(cudaMemcpyAsync(device_in_, in + first * in_size, n * in_size, cudaMemcpyHostToDevice, stream_),
               "device cast: copy to the device");
    cast_on_device(device_in_, from, device_out_, to, n, stream_);
    check_cuda(cudaMemcpyAsync(out + first * out_size, device_out_, n * out_size, cudaMemcpyDeviceToHost, stream_),
               "device cast: copy to the host");
    // The host buffer is read or written by the copies above until the stream gets here.
    check_cuda(cudaStreamSynchronize(stream_), "device cast of " + std::to_string(n) + " elements");
  }
}

}  // namespace fsdpshard
