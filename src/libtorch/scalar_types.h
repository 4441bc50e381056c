// fsdpshard's DType <-> LibTorch's ScalarType. LibTorch 1.13 (Debian's) has no float8,
// uint16/32/64 or bits types: tensors of those are refused with an InputError rather
// than given a wrong type.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>

#include "fsdpshard/util/dtype.h"

namespace fsdpshard::libtorch {

inline std::optional<c10::ScalarType> scalar_type_of(DType dtype) {
  switch (dtype) {
    case DType::Float64: return c10::ScalarType::Double;
    case DType::Float32: return c10::ScalarType::Float;
    case DType::Float16: return c10::ScalarType::Half;
    case DType::BFloat16: return c10::ScalarType::BFloat16;
    case DType::Int64: return c10::ScalarType::Long;
    case DType::Int32: return c10::ScalarType::Int;
    case DType::Int16: return c10::ScalarType::Short;
    case DType::Int8: return c10::ScalarType::Char;
    case DType::UInt8: return c10::ScalarType::Byte;
    case DType::Bool: return c10::ScalarType::Bool;
    case DType::Complex64: return c10::ScalarType::ComplexFloat;
    case DType::Complex128: return c10::ScalarType::ComplexDouble;
    case DType::Complex32: return c10::ScalarType::ComplexHalf;
    default: return std::nullopt;
  }
}

inline std::optional<DType> dtype_of(c10::ScalarType type) {
  switch (type) {
    case c10::ScalarType::Double: return DType::Float64;
    case c10::ScalarType::Float: return DType::Float32;
    case c10::ScalarType::Half: return DType::Float16;
    case c10::ScalarType::BFloat16: return DType::BFloat16;
    case c10::ScalarType::Long: return DType::Int64;
    case c10::ScalarType::Int: return DType::Int32;
    case c10::ScalarType::Short: return DType::Int16;
    case c10::ScalarType::Char: return DType::Int8;
    case c10::ScalarType::Byte: return DType::UInt8;
    case c10::ScalarType::Bool: return DType::Bool;
    case c10::ScalarType::ComplexFloat: return DType::Complex64;
    case c10::ScalarType::ComplexDouble: return DType::Complex128;
    case c10::ScalarType::ComplexHalf: return DType::Complex32;
    default: return std::nullopt;
  }
}

}  // namespace fsdpshard::libtorch
