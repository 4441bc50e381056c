// Element type conversion of tensor bytes, bit-identical to tensor.to(dtype) on PyTorch's
// CPU (tests/unit/cast_test.cpp checks against LibTorch). Targets: float64, float32,
// float16, bfloat16, complex64, complex128. Between float32, float16 and bfloat16 every
// bit pattern, NaNs included, gives torch 2.x's bits (src/comm/cast_math.h says which, and
// where torch 1.13 differs); other pairs keep NaN as some NaN.
#pragma once

#include <cstddef>

#include "fsdpshard/util/dtype.h"

namespace fsdpshard {

// Converts `count` elements at `src` (of `from`) into `dst` (of `to`). Buffers must not
// overlap. InputError for a pair it cannot convert (float8 sources, integer targets).
void cast_elements(const void* src, DType from, void* dst, DType to, std::size_t count);

}  // namespace fsdpshard
