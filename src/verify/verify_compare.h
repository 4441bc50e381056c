// Element-wise comparison of two tensors for `fsdpshard verify`, streamed through bounded
// buffers: bitwise when the dtypes agree and no tolerance is asked, else in float64
// (complex128 for complex dtypes) with |a - b| <= atol + rtol·|b| (numpy.isclose's rule);
// NaN equals NaN at the same position. Integer and bool tensors (on both sides) compare
// exactly as integers under any tolerance: float64 holds integers only up to 2^53, so
// int64 values beyond it would otherwise round to "equal".
#pragma once

#include <cstdint>
#include <optional>

#include "verify/tensor_stream.h"

namespace fsdpshard {

struct Tolerance {
  bool enabled = false;  // --rtol / --atol given
  double rtol = 0;
  double atol = 0;
};

// The tolerance of --rtol / --atol (nullopt: not given). InputError unless each given
// value is finite and >= 0: NaN would make every comparison false (or, as a bound,
// meaningless), inf every one true, a negative bound can never hold.
Tolerance tolerance_from(std::optional<double> rtol, std::optional<double> atol);

struct ValueComparison {
  uint64_t mismatched = 0;     // elements that differ (beyond the tolerance)
  uint64_t first_index = 0;    // flat index of the first one
  double max_abs_diff = 0;     // largest |a - b| seen (tolerance mode only; NaN when a NaN pairs a number)
  uint64_t bytes_read = 0;     // both sides
};

// `a` and `b` have the same shape. `chunk_bytes` bounds each buffer.
ValueComparison compare_values(const TensorLocation& a, const TensorLocation& b, const Tolerance& tolerance,
                               uint64_t chunk_bytes);

}  // namespace fsdpshard
