// Tensor element types as they appear in torch.save files (storage classes), in torch's
// own names (`float16`), and in safetensors headers (`F16`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fsdpshard {

enum class DType : uint8_t {
  Float64, Float32, Float16, BFloat16,
  Int64, Int32, Int16, Int8, UInt8, Bool,
  Complex64, Complex128,
  // Only through _rebuild_tensor_v3 / UntypedStorage (torch >= 2.1).
  Float8E4M3, Float8E5M2, Float8E4M3FNUZ, Float8E5M2FNUZ, Float8E8M0, UInt16, UInt32, UInt64,
  Complex32,
  // Also saved by torch 2.x (as UntypedStorage): packed float4, bfloat16 complex and the
  // uninterpreted "bits" types. fsdpshard moves their bytes; it never converts them.
  Float4E2M1FNx2, BComplex32, Bits8, Bits16, Bits1x8, Bits2x4, Bits4x2,
};

// Bytes per element.
std::size_t element_size(DType dtype);
// torch's name without the "torch." prefix: "float16", "bfloat16", "int64", "bool".
std::string_view torch_name(DType dtype);
std::optional<DType> dtype_from_torch_name(std::string_view name);
// Storage class of the pickle, e.g. "HalfStorage". Empty for dtypes that have none.
std::string_view storage_class(DType dtype);
std::optional<DType> dtype_from_storage_class(std::string_view name);
// safetensors header name, e.g. "F16". Empty where safetensors has none (complex128…).
std::string_view safetensors_name(DType dtype);
std::optional<DType> dtype_from_safetensors_name(std::string_view name);
bool is_floating(DType dtype);
// The floating types --dtype casts: float64, float32, float16, bfloat16. float8 and float4
// tensors hold scaled, quantised values (their scales are other tensors), so they stay.
bool is_castable_floating(DType dtype);

}  // namespace fsdpshard
