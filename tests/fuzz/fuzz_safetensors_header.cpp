// libFuzzer target: the safetensors JSON header parser. The first 8 bytes of the input
// (little-endian) are the data buffer's size the header is checked against; the rest is
// the header text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/safetensors.h"

using namespace fsdpshard;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  uint64_t buffer_size = 0;
  for (int i = 7; i >= 0; --i) buffer_size = (buffer_size << 8) | data[i];
  const std::string_view json(reinterpret_cast<const char*>(data + 8), size - 8);
  try {
    SafetensorsMetadata metadata;
    const auto entries = parse_safetensors_header(json, buffer_size, "fuzz", &metadata);
    // What the parser promises: entries tile [0, buffer_size) exactly.
    uint64_t total = 0;
    for (const auto& e : entries) total += e.nbytes;
    if (total != buffer_size) __builtin_trap();
  } catch (const InputError&) {
  }
  return 0;
}
