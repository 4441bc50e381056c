#include "plan/file_sink.h"

#include <unistd.h>

#include "fsdpshard/error.h"
#include "fsdpshard/zip_writer.h"

namespace fsdpshard {
namespace {

// torch.save's record set (FORMATS.md §1): data.pkl, byteorder, data/<key>…, version.
class TorchSaveSink : public FileSink {
 public:
  TorchSaveSink(const PlannedFile& file, int fd, const std::string& label)
      : zip_(fd, file.archive_root, ZipWriterOptions{0xFFFFFFFFull, label}) {
    zip_.add("data.pkl", file.header);
    zip_.add("byteorder", std::string_view("little"));
  }
  void begin_record(const PlannedRecord& record) override { zip_.begin(record.name, record.bytes()); }
  void append(const void* data, std::size_t size) override { zip_.append(data, size); }
  void end_record() override { zip_.end(); }
  void finish() override {
    zip_.add("version", std::string_view("3\n"));
    zip_.finish();
  }

 private:
  ZipWriter zip_;
};

// Plain bytes: the header (a safetensors header, or a whole text file), then the
// records back to back.
class RawSink : public FileSink {
 public:
  RawSink(const PlannedFile& file, int fd, std::string label) : fd_(fd), label_(std::move(label)) {
    write_all(file.header.data(), file.header.size());
  }
  void begin_record(const PlannedRecord&) override {}
  void append(const void* data, std::size_t size) override { write_all(data, size); }
  void end_record() override {}
  void finish() override {}

 private:
  void write_all(const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("writing " + label_);
      }
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  }
  int fd_;
  std::string label_;
};

}  // namespace

std::unique_ptr<FileSink> make_file_sink(const PlannedFile& file, int fd, const std::string& label) {
  if (file.format == FileFormat::TorchSave) return std::make_unique<TorchSaveSink>(file, fd, label);
  return std::make_unique<RawSink>(file, fd, label);
}

}  // namespace fsdpshard
