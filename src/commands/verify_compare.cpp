#include "commands/verify_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "fsdpshard/cast.h"
#include "fsdpshard/error.h"

namespace fsdpshard {
namespace {

bool is_complex(DType d) { return d == DType::Complex64 || d == DType::Complex128 || d == DType::Complex32; }

// One pair of real numbers: close, or both NaN. Records the difference.
bool close(double x, double y, const Tolerance& tol, double& max_abs_diff) {
  if (std::isnan(x) || std::isnan(y)) {
    if (std::isnan(x) && std::isnan(y)) return true;
    max_abs_diff = NAN;
    return false;
  }
  if (x == y) return true;  // equal infinities too
  const double diff = std::fabs(x - y);
  if (!std::isnan(max_abs_diff) && (diff > max_abs_diff || std::isinf(diff))) max_abs_diff = diff;
  return diff <= tol.atol + tol.rtol * std::fabs(y);
}

void check_tolerance(const std::optional<double>& value, const char* option) {
  if (!value || (std::isfinite(*value) && *value >= 0)) return;
  char shown[32];
  std::snprintf(shown, sizeof shown, "%g", *value);
  throw InputError(std::string(option) + " " + shown + ": expected a finite number >= 0 (e.g. 1e-5)");
}

}  // namespace

Tolerance tolerance_from(std::optional<double> rtol, std::optional<double> atol) {
  check_tolerance(rtol, "--rtol");
  check_tolerance(atol, "--atol");
  Tolerance tolerance;
  tolerance.enabled = rtol.has_value() || atol.has_value();
  tolerance.rtol = rtol.value_or(0.0);
  tolerance.atol = atol.value_or(0.0);
  return tolerance;
}

ValueComparison compare_values(const TensorLocation& a, const TensorLocation& b, const Tolerance& tolerance,
                               uint64_t chunk_bytes) {
  ValueComparison result;
  const uint64_t numel = a.numel();
  const std::size_t ea = element_size(a.dtype), eb = element_size(b.dtype);
  const bool bitwise = !tolerance.enabled && a.dtype == b.dtype;
  const bool complex = is_complex(a.dtype) || is_complex(b.dtype);
  const DType wide = complex ? DType::Complex128 : DType::Float64;
  const std::size_t ew = element_size(wide);
  const uint64_t widest = std::max<uint64_t>({ea, eb, bitwise ? 1 : ew});
  const uint64_t step = std::max<uint64_t>(1, chunk_bytes / widest);

  std::vector<char> raw_a(std::min(step, numel) * ea), raw_b(std::min(step, numel) * eb);
  std::vector<double> wide_a, wide_b;
  if (!bitwise) {
    wide_a.resize(std::min(step, numel) * (ew / sizeof(double)));
    wide_b.resize(wide_a.size());
  }
  TensorStream sa(a), sb(b);
  for (uint64_t first = 0; first < numel; first += step) {
    const uint64_t n = std::min(step, numel - first);
    sa.read(raw_a.data(), n);
    sb.read(raw_b.data(), n);
    result.bytes_read += n * (ea + eb);
    if (bitwise) {
      if (std::memcmp(raw_a.data(), raw_b.data(), n * ea) == 0) continue;
      for (uint64_t i = 0; i < n; ++i) {
        if (std::memcmp(raw_a.data() + i * ea, raw_b.data() + i * ea, ea) != 0) {
          if (result.mismatched++ == 0) result.first_index = first + i;
        }
      }
      continue;
    }
    cast_elements(raw_a.data(), a.dtype, wide_a.data(), wide, n);
    cast_elements(raw_b.data(), b.dtype, wide_b.data(), wide, n);
    const std::size_t parts = complex ? 2 : 1;  // real, imaginary
    for (uint64_t i = 0; i < n; ++i) {
      bool ok = true;
      for (std::size_t p = 0; p < parts; ++p) {
        ok = close(wide_a[i * parts + p], wide_b[i * parts + p], tolerance, result.max_abs_diff) && ok;
      }
      if (!ok && result.mismatched++ == 0) result.first_index = first + i;
    }
  }
  return result;
}

}  // namespace fsdpshard
