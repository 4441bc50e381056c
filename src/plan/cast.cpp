// The only translation unit that includes ATen: keep it that way, torch headers are slow.
#include "fsdpshard/cast.h"

#include <ATen/ATen.h>

#include "fsdpshard/error.h"

namespace fsdpshard {
namespace {

c10::ScalarType scalar_type(DType dtype) {
  switch (dtype) {
    case DType::Float64: return c10::kDouble;
    case DType::Float32: return c10::kFloat;
    case DType::Float16: return c10::kHalf;
    case DType::BFloat16: return c10::kBFloat16;
    case DType::Int64: return c10::kLong;
    case DType::Int32: return c10::kInt;
    case DType::Int16: return c10::kShort;
    case DType::Int8: return c10::kChar;
    case DType::UInt8: return c10::kByte;
    case DType::Bool: return c10::kBool;
    case DType::Complex64: return c10::kComplexFloat;
    case DType::Complex128: return c10::kComplexDouble;
    default: break;
  }
  throw InputError(std::string("cannot cast tensors of dtype ") + std::string(torch_name(dtype)) +
                   " with this LibTorch");
}

}  // namespace

void cast_elements(const void* src, DType from, void* dst, DType to, std::size_t count) {
  if (count == 0) return;
  const auto n = static_cast<int64_t>(count);
  const at::Tensor in = at::from_blob(const_cast<void*>(src), {n}, at::TensorOptions().dtype(scalar_type(from)));
  at::Tensor out = at::from_blob(dst, {n}, at::TensorOptions().dtype(scalar_type(to)));
  out.copy_(in);
}

}  // namespace fsdpshard
