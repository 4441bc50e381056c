// Plain bytes: a safetensors file (its header is the u64 length and the JSON) or a text
// file (the header is all of it), the records back to back after the header.
#include "archive/fd_io.h"
#include "fsdpshard/formats/file_encoding.h"
#include "fsdpshard/plan/plan.h"

namespace fsdpshard {
namespace {

class RawBytesSink : public FileSink {
 public:
  RawBytesSink(const PlannedFile& file, int fd, const std::string& label) : fd_(fd), what_("writing " + label) {
    archive::write_exact(fd_, file.header.data(), file.header.size(), what_);
  }
  void begin_record(const PlannedRecord&) override {}
  void append(const void* data, std::size_t size) override { archive::write_exact(fd_, data, size, what_); }
  bool can_copy(const PlannedRecord&) const override { return true; }
  void copy_from(int in_fd, uint64_t offset, uint64_t size, const std::string& in_path) override {
    archive::copy_exact(in_fd, offset, fd_, size, in_path, "tensor bytes at offset " + std::to_string(offset), what_);
  }
  void end_record() override {}
  void finish() override {}

 private:
  int fd_;
  std::string what_;
};

}  // namespace

std::shared_ptr<const FileEncoding> raw_bytes_encoding() {
  static const auto encoding = std::make_shared<const SinkEncoding<RawBytesSink>>();
  return encoding;
}

}  // namespace fsdpshard
