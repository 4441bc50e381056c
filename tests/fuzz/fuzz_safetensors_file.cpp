// libFuzzer target: SafetensorsReader on an arbitrary file, then a read of every tensor's
// first and last bytes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/safetensors.h"
#include "fuzz_support.h"

using namespace fsdpshard;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::MemFile file(data, size);
  try {
    SafetensorsReader reader(file.path());
    std::vector<char> buffer(64);
    for (const SafetensorsEntry& e : reader.entries()) {
      if (reader.find(e.name) != &e) __builtin_trap();
      const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(e.nbytes, buffer.size()));
      reader.read_at(e, 0, buffer.data(), n);
      reader.read_at(e, e.nbytes - n, buffer.data(), n);
    }
  } catch (const InputError&) {
  }
  return 0;
}
