// Host bytes cast on this process's current GPU: copied in, converted by cast_on_device
// (cast_kernels.h, the arithmetic of src/comm/cast_math.h), copied back. The nccl backend's
// Communicator::cast runs on this; the executor calls that once per chunk of a cast
// record, so the device buffers are kept from call to call (a cudaMalloc per chunk would
// cost more than the conversion).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "fsdpshard/util/dtype.h"

namespace fsdpshard {

class DeviceCaster {
 public:
  // Bytes of each device buffer (input and output): a cast larger than that goes through
  // in pieces of this many bytes of its wider dtype.
  static constexpr std::size_t kPieceBytes = std::size_t{16} << 20;

  DeviceCaster() = default;
  ~DeviceCaster();
  DeviceCaster(const DeviceCaster&) = delete;
  DeviceCaster& operator=(const DeviceCaster&) = delete;

  // Converts `count` elements of host memory `source` (of `from`) into host memory
  // `target` (of `to`); blocking. Buffers and a stream are made on first use, on the
  // device current then. std::invalid_argument for a pair device_cast_supported refuses;
  // RuntimeFailure for a CUDA error.
  void cast(const void* source, DType from, void* target, DType to, std::size_t count);

 private:
  void allocate();

  cudaStream_t stream_ = nullptr;
  void* device_in_ = nullptr;
  void* device_out_ = nullptr;
};

}  // namespace fsdpshard
