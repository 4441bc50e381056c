#include "comm/nccl/cast_kernels.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "comm/cast_math.h"
#include "comm/nccl/cuda_check.h"

namespace fsdpshard {
namespace {

bool is_cast_type(DType dtype) {
  return dtype == DType::Float32 || dtype == DType::Float16 || dtype == DType::BFloat16;
}

// One scalar conversion per (from, to) pair, all from cast_math.h.
struct FloatToHalf {
  __device__ uint16_t operator()(float v) const { return cast_math::float_to_half(v); }
};
struct FloatToBFloat16 {
  __device__ uint16_t operator()(float v) const { return cast_math::float_to_bfloat16(v); }
};
struct HalfToFloat {
  __device__ float operator()(uint16_t v) const { return cast_math::half_to_float(v); }
};
struct BFloat16ToFloat {
  __device__ float operator()(uint16_t v) const { return cast_math::bfloat16_to_float(v); }
};
struct HalfToBFloat16 {
  __device__ uint16_t operator()(uint16_t v) const { return cast_math::half_to_bfloat16(v); }
};
struct BFloat16ToHalf {
  __device__ uint16_t operator()(uint16_t v) const { return cast_math::bfloat16_to_half(v); }
};

template <typename In, typename Out, typename Op>
__global__ void cast_kernel(const In* in, Out* out, std::size_t count, Op op) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    out[i] = op(in[i]);
  }
}

template <typename In, typename Out, typename Op>
void launch(const void* source, void* target, std::size_t count, cudaStream_t stream, Op op) {
  constexpr unsigned kThreads = 256;
  // A grid-stride loop: enough blocks to fill the GPU, never more than the data needs.
  const std::size_t wanted = (count + kThreads - 1) / kThreads;
  const unsigned blocks = static_cast<unsigned>(std::min<std::size_t>(wanted, 8192));
  cast_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const In*>(source),
                                                static_cast<Out*>(target), count, op);
  check_cuda(cudaGetLastError(), "cast kernel launch");
}

}  // namespace

bool device_cast_supported(DType from, DType to) { return is_cast_type(from) && is_cast_type(to); }

void cast_on_device(const void* source, DType from, void* target, DType to, std::size_t count,
                    cudaStream_t stream) {
  if (!device_cast_supported(from, to)) {
    throw std::invalid_argument("cast_on_device: no kernel for " + std::string(torch_name(from)) +
                                " -> " + std::string(torch_name(to)));
  }
  if (count == 0) return;
  if (from == to) {
    check_cuda(cudaMemcpyAsync(target, source, count * element_size(from), cudaMemcpyDeviceToDevice, stream),
               "cast_on_device copy");
    return;
  }
  using F = DType;
  if (from == F::Float32 && to == F::Float16) return launch<float, uint16_t>(source, target, count, stream, FloatToHalf{});
  if (from == F::Float32 && to == F::BFloat16) return launch<float, uint16_t>(source, target, count, stream, FloatToBFloat16{});
  if (from == F::Float16 && to == F::Float32) return launch<uint16_t, float>(source, target, count, stream, HalfToFloat{});
  if (from == F::BFloat16 && to == F::Float32) return launch<uint16_t, float>(source, target, count, stream, BFloat16ToFloat{});
  if (from == F::Float16 && to == F::BFloat16) return launch<uint16_t, uint16_t>(source, target, count, stream, HalfToBFloat16{});
  return launch<uint16_t, uint16_t>(source, target, count, stream, BFloat16ToHalf{});
}

}  // namespace fsdpshard
