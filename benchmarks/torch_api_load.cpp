// One contender of benchmarks/torch_api_bench.py: fsdpshard::libtorch::load on FILE.
//   torch_api_load FILE first|all
// first: load, then read the first tensor's storage (time to first tensor); all: load,
// then read every tensor's storage. Prints {"first_s": …, "all_s": …} (seconds since the call to
// load; all_s only in mode all). Peak RSS is measured by the caller (wait4).
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "fsdpshard/torch.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Reads one byte of every cache line of `t`'s storage: every page is faulted in, nothing
// is copied, and the sum keeps the compiler from skipping the reads.
uint64_t touch(const at::Tensor& t) {
  const at::Tensor bytes = at::empty({0}, at::TensorOptions().dtype(at::kByte)).set_(t.storage());
  const auto* p = bytes.data_ptr<uint8_t>();
  uint64_t sum = 0;
  for (int64_t i = 0; i < bytes.numel(); i += 64) sum += p[i];
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[2], "first") != 0 && std::strcmp(argv[2], "all") != 0)) {
    std::fprintf(stderr, "usage: torch_api_load FILE first|all\n");
    return 2;
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    const auto loaded = fsdpshard::libtorch::load(argv[1]);
    uint64_t sum = touch(loaded.tensors.at(0).second);
    const double first = seconds_since(start);
    if (std::strcmp(argv[2], "all") == 0) {
      for (const auto& entry : loaded.tensors) sum += touch(entry.second);
      std::printf("{\"first_s\": %.6f, \"all_s\": %.6f, \"checksum\": %llu}\n", first, seconds_since(start),
                  static_cast<unsigned long long>(sum));
    } else {
      std::printf("{\"first_s\": %.6f, \"checksum\": %llu}\n", first, static_cast<unsigned long long>(sum));
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torch_api_load: %s\n", e.what());
    return 1;
  }
}
