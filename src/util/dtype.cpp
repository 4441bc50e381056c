#include "fsdpshard/util/dtype.h"

#include <array>

namespace fsdpshard {
namespace {

struct DTypeInfo {
  DType dtype;
  std::size_t size;
  std::string_view torch;
  std::string_view storage;
  std::string_view safetensors;
  bool floating;
};

constexpr std::array<DTypeInfo, 28> kTable{{
    {DType::Float64, 8, "float64", "DoubleStorage", "F64", true},
    {DType::Float32, 4, "float32", "FloatStorage", "F32", true},
    {DType::Float16, 2, "float16", "HalfStorage", "F16", true},
    {DType::BFloat16, 2, "bfloat16", "BFloat16Storage", "BF16", true},
    {DType::Int64, 8, "int64", "LongStorage", "I64", false},
    {DType::Int32, 4, "int32", "IntStorage", "I32", false},
    {DType::Int16, 2, "int16", "ShortStorage", "I16", false},
    {DType::Int8, 1, "int8", "CharStorage", "I8", false},
    {DType::UInt8, 1, "uint8", "ByteStorage", "U8", false},
    {DType::Bool, 1, "bool", "BoolStorage", "BOOL", false},
    {DType::Complex64, 8, "complex64", "ComplexFloatStorage", "C64", false},
    {DType::Complex128, 16, "complex128", "ComplexDoubleStorage", "", false},
    {DType::Float8E4M3, 1, "float8_e4m3fn", "", "F8_E4M3", true},
    {DType::Float8E5M2, 1, "float8_e5m2", "", "F8_E5M2", true},
    {DType::Float8E4M3FNUZ, 1, "float8_e4m3fnuz", "", "F8_E4M3FNUZ", true},
    {DType::Float8E5M2FNUZ, 1, "float8_e5m2fnuz", "", "F8_E5M2FNUZ", true},
    {DType::Float8E8M0, 1, "float8_e8m0fnu", "", "F8_E8M0", true},
    {DType::UInt16, 2, "uint16", "", "U16", false},
    {DType::UInt32, 4, "uint32", "", "U32", false},
    {DType::UInt64, 8, "uint64", "", "U64", false},
    {DType::Complex32, 4, "complex32", "", "", false},
    // safetensors' F4 counts 4-bit elements, torch's float4_e2m1fn_x2 bytes: no mapping.
    {DType::Float4E2M1FNx2, 1, "float4_e2m1fn_x2", "", "", true},
    {DType::BComplex32, 4, "bcomplex32", "", "", false},
    {DType::Bits8, 1, "bits8", "", "", false},
    {DType::Bits16, 2, "bits16", "", "", false},
    {DType::Bits1x8, 1, "bits1x8", "", "", false},
    {DType::Bits2x4, 1, "bits2x4", "", "", false},
    {DType::Bits4x2, 1, "bits4x2", "", "", false},
}};

const DTypeInfo& info(DType dtype) {
  for (const auto& entry : kTable) {
    if (entry.dtype == dtype) return entry;
  }
  return kTable[0];  // unreachable: every enumerator is in the table
}

template <typename Field>
std::optional<DType> find(std::string_view name, Field field) {
  if (name.empty()) return std::nullopt;
  for (const auto& entry : kTable) {
    if (entry.*field == name) return entry.dtype;
  }
  return std::nullopt;
}

}  // namespace

std::size_t element_size(DType dtype) { return info(dtype).size; }
std::string_view torch_name(DType dtype) { return info(dtype).torch; }
std::string_view storage_class(DType dtype) { return info(dtype).storage; }
std::string_view safetensors_name(DType dtype) { return info(dtype).safetensors; }
bool is_floating(DType dtype) { return info(dtype).floating; }
bool is_castable_floating(DType dtype) {
  return dtype == DType::Float64 || dtype == DType::Float32 || dtype == DType::Float16 ||
         dtype == DType::BFloat16;
}

std::optional<DType> dtype_from_torch_name(std::string_view name) {
  if (name.substr(0, 6) == "torch.") name.remove_prefix(6);
  if (name == "half") return DType::Float16;
  if (name == "float") return DType::Float32;
  if (name == "double") return DType::Float64;
  if (name == "long") return DType::Int64;
  if (name == "chalf") return DType::Complex32;
  return find(name, &DTypeInfo::torch);
}
std::optional<DType> dtype_from_storage_class(std::string_view name) {
  return find(name, &DTypeInfo::storage);
}
std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  return find(name, &DTypeInfo::safetensors);
}

}  // namespace fsdpshard
