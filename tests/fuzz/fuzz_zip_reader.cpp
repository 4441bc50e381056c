// libFuzzer target: ZipReader on an arbitrary file — index it, then read every record
// whole and in pieces and compute its CRC, as inspect/gather/verify --crc do.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/zip_reader.h"
#include "fuzz_support.h"

using namespace fsdpshard;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::MemFile file(data, size);
  try {
    ZipReader zip(file.path());
    for (const ZipRecord& record : zip.records()) {
      try {
        (void)zip.require(record.name);
        const std::string whole = zip.read(record);
        if (record.method == 0 && record.size > 0) {
          std::vector<char> piece(std::min<uint64_t>(record.size, 64));
          zip.read_at(record, record.size - piece.size(), piece.data(), piece.size());
        }
        (void)zip.compute_crc(record);
      } catch (const InputError&) {
      }
    }
  } catch (const InputError&) {
  }
  return 0;
}
