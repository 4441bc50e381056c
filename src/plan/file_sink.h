// Writes one planned output file: the format's framing around the tensor records the
// executor streams into it (zip records for torch.save, a header for safetensors).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "fsdpshard/plan.h"

namespace fsdpshard {

class FileSink {
 public:
  virtual ~FileSink() = default;
  virtual void begin_record(const PlannedRecord& record) = 0;
  virtual void append(const void* data, std::size_t size) = 0;
  // Whether the record's bytes may come by copy_from: the format needs nothing computed
  // from them that planning did not already know (a zip record's CRC).
  virtual bool can_copy(const PlannedRecord& record) const = 0;
  // Appends `size` bytes of `in_fd` from `offset` (the input `in_path`), copied by the kernel.
  virtual void copy_from(int in_fd, uint64_t offset, uint64_t size, const std::string& in_path) = 0;
  virtual void end_record() = 0;
  // Writes what follows the last record; the file is complete afterwards.
  virtual void finish() = 0;
};

// A sink writing `file` to the open descriptor `fd` (positioned at 0, not closed);
// `label` names the output in error messages.
std::unique_ptr<FileSink> make_file_sink(const PlannedFile& file, int fd, const std::string& label);

}  // namespace fsdpshard
