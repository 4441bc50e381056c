// How one planned output file becomes bytes on disk: its encoding (torch.save's zip, a
// safetensors or text file, a copy of an input archive) writes the framing around the
// tensor records that the executor streams into it. A PlannedFile names its encoding, so
// the executor never asks which format it writes, and a new format that needs a new
// framing brings its own FileEncoding without editing anything else.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace fsdpshard {

struct PlannedFile;
struct PlannedRecord;

// Writes one planned file to an open descriptor, record by record, in plan order.
class FileSink {
 public:
  virtual ~FileSink() = default;
  virtual void begin_record(const PlannedRecord& record) = 0;
  virtual void append(const void* data, std::size_t size) = 0;
  // Whether the record's bytes may come by copy_from: the encoding needs nothing computed
  // from them that planning did not already know (a zip record's CRC).
  virtual bool can_copy(const PlannedRecord& record) const = 0;
  // Appends `size` bytes of `in_fd` from `offset` (the input `in_path`), copied by the kernel.
  virtual void copy_from(int in_fd, uint64_t offset, uint64_t size, const std::string& in_path) = 0;
  virtual void end_record() = 0;
  // Writes what follows the last record; the file is complete afterwards.
  virtual void finish() = 0;
};

class FileEncoding {
 public:
  virtual ~FileEncoding() = default;
  // A sink writing `file` to `fd` (positioned at 0, not closed by the sink); `label`
  // names the output in error messages.
  virtual std::unique_ptr<FileSink> open_sink(const PlannedFile& file, int fd, const std::string& label) const = 0;
};

// The encoding whose sink is a `Sink(file, fd, label)`: what most encodings are.
template <class Sink>
class SinkEncoding : public FileEncoding {
 public:
  std::unique_ptr<FileSink> open_sink(const PlannedFile& file, int fd, const std::string& label) const override {
    return std::make_unique<Sink>(file, fd, label);
  }
};

// torch.save's zip (docs/FORMATS.md §1): data.pkl (PlannedFile::header), byteorder, the
// records as data/<key>, version; the root folder is PlannedFile::archive_root.
std::shared_ptr<const FileEncoding> torch_zip_encoding();

// Plain bytes: PlannedFile::header, then the records back to back. A safetensors file
// (the header is its length and JSON) or a text file (the header is all of it).
std::shared_ptr<const FileEncoding> raw_bytes_encoding();

// The zip root folder torch.save gives a file of this name: its name without the last
// extension ("x.pt" -> "x", "checkpoint.th.1" -> "checkpoint.th"), "archive" when empty.
std::string torch_archive_root(const std::string& file_name);

}  // namespace fsdpshard
