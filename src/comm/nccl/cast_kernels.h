// float32 / float16 / bfloat16 casts on the GPU, bit-identical to cast_math.h on the host
// (round to nearest even, as torch's CPU casts; the same functions run on both). The nccl
// backend's Communicator::cast runs them through DeviceCaster (device_caster.h).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "fsdpshard/util/dtype.h"

namespace fsdpshard {

// True for every pair of Float32, Float16, BFloat16 (same type included: a copy).
bool device_cast_supported(DType from, DType to);

// Casts `count` elements of device memory `source` into device memory `target` on `stream`
// (asynchronous). std::invalid_argument for an unsupported pair.
void cast_on_device(const void* source, DType from, void* target, DType to, std::size_t count,
                    cudaStream_t stream);

}  // namespace fsdpshard
