// safetensors files (docs/FORMATS.md §7): u64 little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the data buffer. The reader
// validates the header against the file before any tensor is read; the writer emits the
// header first and then streams each tensor's bytes in header order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fsdpshard/util/dtype.h"
#include "fsdpshard/archive/read_only_file.h"

namespace fsdpshard {

namespace archive {
class BufferedWriter;
}

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<uint64_t> shape;
  uint64_t data_offset = 0;  // absolute file offset of the first byte
  uint64_t nbytes = 0;
};

// "__metadata__": string keys to string values. The writer keeps the given order; the
// reader gives them sorted by key (the format attaches no meaning to their order).
using SafetensorsMetadata = std::vector<std::pair<std::string, std::string>>;

class SafetensorsReader {
 public:
  // InputError "<path>: …" when the file is not a valid safetensors file.
  explicit SafetensorsReader(std::string path);

  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_.size(); }
  uint64_t header_size() const { return header_size_; }  // the JSON's length, padding included
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }  // header order
  const SafetensorsMetadata& metadata() const { return metadata_; }

  const SafetensorsEntry* find(std::string_view name) const;  // nullptr when absent
  // `length` bytes from `offset` within the tensor, by pread. InputError when the range
  // is outside the tensor; RuntimeFailure on I/O error.
  void read_at(const SafetensorsEntry& entry, uint64_t offset, void* dst, std::size_t length) const;
  int fd() const { return file_.fd(); }

 private:
  std::string path_;
  ReadOnlyFile file_;
  uint64_t header_size_ = 0;
  std::vector<SafetensorsEntry> entries_;
  SafetensorsMetadata metadata_;
  std::unordered_map<std::string, std::size_t> index_;
};

// Validates a header (the JSON between the length and the data) for a data buffer of
// `buffer_size` bytes; the entries' data_offset is relative to the buffer. InputError
// "<label>: …". Used by the reader; exposed for tests and for checks without a file.
std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view json, uint64_t buffer_size,
                                                       const std::string& label,
                                                       SafetensorsMetadata* metadata);

struct SafetensorsTensorSpec {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<uint64_t> shape;
  uint64_t nbytes = 0;  // must equal product(shape) × element size
};

// The header bytes (JSON padded with spaces to a multiple of 8), without the length
// prefix. Tensors are laid out back to back in the given order. InputError for specs that
// do not fit the format (duplicate names, a dtype without a safetensors name, a wrong
// nbytes).
std::string make_safetensors_header(const std::vector<SafetensorsTensorSpec>& tensors,
                                    const SafetensorsMetadata& metadata);

class SafetensorsWriter {
 public:
  // Writes the length and header to `fd` (not closed; starting at offset 0). The
  // metadata goes first as "__metadata__" (omitted when empty); transformers wants
  // {"format": "pt"} in it.
  SafetensorsWriter(int fd, std::vector<SafetensorsTensorSpec> tensors,
                    const SafetensorsMetadata& metadata, std::string label = "safetensors file");
  ~SafetensorsWriter();
  SafetensorsWriter(SafetensorsWriter&&) noexcept;
  SafetensorsWriter& operator=(SafetensorsWriter&&) noexcept;

  // Each tensor, in the order given to the constructor: begin(name), append() exactly
  // nbytes, end(). logic_error on a wrong name, order or size.
  void begin(std::string_view name);
  void append(const void* data, std::size_t size);
  void end();
  void add(std::string_view name, const void* data, std::size_t size);
  // Checks that every tensor was written and flushes.
  void finish();

  uint64_t bytes_written() const;
  uint64_t data_start() const { return data_start_; }  // 8 + header length

 private:
  std::vector<SafetensorsTensorSpec> tensors_;
  std::unique_ptr<archive::BufferedWriter> out_;
  uint64_t data_start_ = 0;
  std::size_t next_ = 0;  // index of the tensor to write next
  bool in_tensor_ = false;
  bool finished_ = false;
  uint64_t remaining_ = 0;
};

}  // namespace fsdpshard
