// Element type conversions written out by hand: LibTorch's copy_ gives the same bits (the
// tests compare against it), but linking LibTorch into the tool costs every rank ~0.4 s
// and ~150 MB before main() runs, more than a whole small gather.
#include "fsdpshard/plan/cast.h"

#include <cstdint>
#include <cstring>

#include "comm/cast_math.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

namespace cm = cast_math;

template <typename T>
T load_as(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

template <typename T>
void store_as(char* p, T value) {
  std::memcpy(p, &value, sizeof value);
}

[[noreturn]] void unsupported(DType from, DType to) {
  throw InputError("cannot convert " + std::string(torch_name(from)) + " tensors to " + std::string(torch_name(to)));
}

// The sources load() reads and the targets store() writes (the integer and bool targets
// --dtype never asks for are not among them).
bool loadable(DType from) {
  switch (from) {
    case DType::Float64: case DType::Float32: case DType::Float16: case DType::BFloat16:
    case DType::Int64: case DType::Int32: case DType::Int16: case DType::Int8:
    case DType::UInt8: case DType::UInt16: case DType::UInt32: case DType::UInt64:
    case DType::Bool: case DType::Complex64: case DType::Complex128:
      return true;
    default:
      return false;
  }
}

bool storable(DType to) {
  switch (to) {
    case DType::Float64: case DType::Float32: case DType::Float16: case DType::BFloat16:
    case DType::Complex64: case DType::Complex128:
      return true;
    default:
      return false;
  }
}

// One element as a (real, imaginary) pair of doubles: exact for every source dtype but
// 64-bit integers beyond 2^53, which only tolerance comparisons ever widen.
void load(const char* p, DType from, double* re, double* im, DType to) {
  *im = 0.0;
  switch (from) {
    case DType::Float64: *re = load_as<double>(p); return;
    case DType::Float32: *re = load_as<float>(p); return;
    case DType::Float16: *re = cm::half_to_float(load_as<uint16_t>(p)); return;
    case DType::BFloat16: *re = cm::bfloat16_to_float(load_as<uint16_t>(p)); return;
    case DType::Int64: *re = static_cast<double>(load_as<int64_t>(p)); return;
    case DType::Int32: *re = load_as<int32_t>(p); return;
    case DType::Int16: *re = load_as<int16_t>(p); return;
    case DType::Int8: *re = load_as<int8_t>(p); return;
    case DType::UInt8: *re = load_as<uint8_t>(p); return;
    case DType::UInt16: *re = load_as<uint16_t>(p); return;
    case DType::UInt32: *re = load_as<uint32_t>(p); return;
    case DType::UInt64: *re = static_cast<double>(load_as<uint64_t>(p)); return;
    case DType::Bool: *re = p[0] != 0 ? 1.0 : 0.0; return;
    case DType::Complex64:
      *re = load_as<float>(p);
      *im = load_as<float>(p + 4);
      return;
    case DType::Complex128:
      *re = load_as<double>(p);
      *im = load_as<double>(p + 8);
      return;
    default: unsupported(from, to);
  }
}

// Narrowing to 16-bit floats goes through float32, as c10::Half(float)/BFloat16(float) do.
void store(char* p, DType to, double re, double im, DType from) {
  switch (to) {
    case DType::Float64: store_as(p, re); return;
    case DType::Float32: store_as(p, static_cast<float>(re)); return;
    case DType::Float16: store_as(p, cm::float_to_half(static_cast<float>(re))); return;
    case DType::BFloat16: store_as(p, cm::float_to_bfloat16(static_cast<float>(re))); return;
    case DType::Complex64:
      store_as(p, static_cast<float>(re));
      store_as(p + 4, static_cast<float>(im));
      return;
    case DType::Complex128:
      store_as(p, re);
      store_as(p + 8, im);
      return;
    default: unsupported(from, to);
  }
}

// The conversions gather --dtype runs on every byte of a model, without the double detour.
bool cast_fast(const char* src, DType from, char* dst, DType to, std::size_t count) {
  if (from == DType::Float32 && to == DType::Float16) {
    for (std::size_t i = 0; i < count; ++i) store_as(dst + 2 * i, cm::float_to_half(load_as<float>(src + 4 * i)));
  } else if (from == DType::Float32 && to == DType::BFloat16) {
    for (std::size_t i = 0; i < count; ++i) store_as(dst + 2 * i, cm::float_to_bfloat16(load_as<float>(src + 4 * i)));
  } else if (from == DType::Float16 && to == DType::Float32) {
    for (std::size_t i = 0; i < count; ++i) store_as(dst + 4 * i, cm::half_to_float(load_as<uint16_t>(src + 2 * i)));
  } else if (from == DType::BFloat16 && to == DType::Float32) {
    for (std::size_t i = 0; i < count; ++i) {
      store_as(dst + 4 * i, cm::bfloat16_to_float(load_as<uint16_t>(src + 2 * i)));
    }
  } else if (from == DType::Float16 && to == DType::BFloat16) {
    for (std::size_t i = 0; i < count; ++i) store_as(dst + 2 * i, cm::half_to_bfloat16(load_as<uint16_t>(src + 2 * i)));
  } else if (from == DType::BFloat16 && to == DType::Float16) {
    for (std::size_t i = 0; i < count; ++i) store_as(dst + 2 * i, cm::bfloat16_to_half(load_as<uint16_t>(src + 2 * i)));
  } else {
    return false;
  }
  return true;
}

}  // namespace

void cast_elements(const void* src, DType from, void* dst, DType to, std::size_t count) {
  const char* in = static_cast<const char*>(src);
  char* out = static_cast<char*>(dst);
  if (from == to) {
    std::memcpy(out, in, count * element_size(from));
    return;
  }
  if (cast_fast(in, from, out, to, count)) return;
  // Refused up front, so that an empty tensor of an unsupported pair is refused too.
  if (!loadable(from) || !storable(to)) unsupported(from, to);
  const std::size_t in_size = element_size(from);
  const std::size_t out_size = element_size(to);
  for (std::size_t i = 0; i < count; ++i) {
    double re, im;
    load(in + i * in_size, from, &re, &im, to);
    store(out + i * out_size, to, re, im, from);
  }
}

}  // namespace fsdpshard
