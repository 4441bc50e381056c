// float32 / float16 / bfloat16 casts on the GPU, bit-identical to cast_math.h on the host
// (round to nearest even, as torch's CPU casts). Optional: the executor may cast on the
// device when the nccl backend already moves the bytes through it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "fsdpshard/dtype.h"

namespace fsdpshard {

// True for every pair of Float32, Float16, BFloat16 (same type included: a copy).
bool device_cast_supported(DType from, DType to);

// Casts `count` elements of device memory `source` into device memory `target` on `stream`
// (asynchronous). std::invalid_argument for an unsupported pair.
void cast_on_device(const void* source, DType from, void* target, DType to, std::size_t count,
                    cudaStream_t stream);

// Host memory in, host memory out, through the current device in chunks; blocking.
void cast_via_device(const void* source, DType from, void* target, DType to, std::size_t count);

}  // namespace fsdpshard
