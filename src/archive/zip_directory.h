// Indexes a zip archive from its end records and central directory, checking every
// offset and size against the file so that later preads of a record stay inside it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fsdpshard/archive/zip_reader.h"

namespace fsdpshard::archive {

struct ZipDirectory {
  std::string root;                // the one root folder, no slash
  std::vector<ZipRecord> records;  // central-directory order, names relative to root
};

// InputError "<path>: …" for anything that is not a sound torch.save-style zip.
ZipDirectory read_zip_directory(int fd, const std::string& path, uint64_t file_size);

}  // namespace fsdpshard::archive
