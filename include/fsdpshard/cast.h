// Element type conversion of tensor bytes, done by LibTorch's own CPU kernels so results
// are bit-identical to tensor.to(dtype) in PyTorch.
#pragma once

#include <cstddef>

#include "fsdpshard/dtype.h"

namespace fsdpshard {

// Converts `count` elements at `src` (of `from`) into `dst` (of `to`). Buffers must not overlap.
void cast_elements(const void* src, DType from, void* dst, DType to, std::size_t count);

}  // namespace fsdpshard
