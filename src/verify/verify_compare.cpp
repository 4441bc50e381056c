#include "verify/verify_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "fsdpshard/plan/cast.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

bool is_complex(DType d) { return d == DType::Complex64 || d == DType::Complex128 || d == DType::Complex32; }

bool is_integral(DType d) {
  switch (d) {
    case DType::Int64: case DType::Int32: case DType::Int16: case DType::Int8:
    case DType::UInt8: case DType::UInt16: case DType::UInt32: case DType::UInt64: case DType::Bool:
      return true;
    default:
      return false;
  }
}

// An integer element as a sign and a magnitude: every int64 and uint64 value fits.
struct Integer {
  bool negative = false;
  uint64_t magnitude = 0;
  bool operator==(const Integer& o) const {
    return magnitude == o.magnitude && (negative == o.negative || magnitude == 0);
  }
};

template <typename T>
T load(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

Integer signed_integer(int64_t v) {
  return v < 0 ? Integer{true, uint64_t{0} - static_cast<uint64_t>(v)} : Integer{false, static_cast<uint64_t>(v)};
}

Integer integer_at(const char* p, DType d) {
  switch (d) {
    case DType::Int64: return signed_integer(load<int64_t>(p));
    case DType::Int32: return signed_integer(load<int32_t>(p));
    case DType::Int16: return signed_integer(load<int16_t>(p));
    case DType::Int8: return signed_integer(load<int8_t>(p));
    case DType::UInt8: return {false, load<uint8_t>(p)};
    case DType::Bool: return {false, load<uint8_t>(p) != 0 ? 1u : 0u};
    case DType::UInt16: return {false, load<uint16_t>(p)};
    case DType::UInt32: return {false, load<uint32_t>(p)};
    default: return {false, load<uint64_t>(p)};  // UInt64
  }
}

// |a - b| as a double, for the report's max_abs_diff.
double distance(const Integer& a, const Integer& b) {
  if (a.negative == b.negative) {
    return static_cast<double>(a.magnitude > b.magnitude ? a.magnitude - b.magnitude : b.magnitude - a.magnitude);
  }
  return static_cast<double>(a.magnitude) + static_cast<double>(b.magnitude);
}

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
  // Equal dtypes without a tolerance, or integers on both sides (exact under any
  // tolerance): no float64 on the way.
  const bool bitwise = (!tolerance.enabled || is_integral(a.dtype)) && a.dtype == b.dtype;
  const bool integers = !bitwise && is_integral(a.dtype) && is_integral(b.dtype);
  const bool complex = is_complex(a.dtype) || is_complex(b.dtype);
  const DType wide = complex ? DType::Complex128 : DType::Float64;
  const std::size_t ew = element_size(wide);
  const uint64_t widest = std::max<uint64_t>({ea, eb, bitwise ? 1 : ew});
  const uint64_t step = std::max<uint64_t>(1, chunk_bytes / widest);

  std::vector<char> raw_a(std::min(step, numel) * ea), raw_b(std::min(step, numel) * eb);
  std::vector<double> wide_a, wide_b;
  if (!bitwise && !integers) {
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
          if (tolerance.enabled) {  // integers under a tolerance: report how far apart
            result.max_abs_diff = std::max(result.max_abs_diff, distance(integer_at(raw_a.data() + i * ea, a.dtype),
                                                                         integer_at(raw_b.data() + i * ea, b.dtype)));
          }
        }
      }
      continue;
    }
    if (integers) {
      for (uint64_t i = 0; i < n; ++i) {
        const Integer x = integer_at(raw_a.data() + i * ea, a.dtype), y = integer_at(raw_b.data() + i * eb, b.dtype);
        if (x == y) continue;
        result.max_abs_diff = std::max(result.max_abs_diff, distance(x, y));
        if (result.mismatched++ == 0) result.first_index = first + i;
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
