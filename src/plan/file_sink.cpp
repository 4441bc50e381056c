#include "plan/file_sink.h"

#include "archive/fd_io.h"
#include "fsdpshard/zip_writer.h"

namespace fsdpshard {
namespace {

// torch.save's record set (docs/FORMATS.md §1): data.pkl, byteorder, data/<key>…, version.
class TorchSaveSink : public FileSink {
 public:
  TorchSaveSink(const PlannedFile& file, int fd, const std::string& label)
      : zip_(fd, file.archive_root, ZipWriterOptions{0xFFFFFFFFull, label}) {
    zip_.add("data.pkl", file.header);
    zip_.add("byteorder", std::string_view("little"));
  }
  void begin_record(const PlannedRecord& record) override {
    zip_.begin(record.name, record.bytes(), record.crc32);
  }
  void append(const void* data, std::size_t size) override { zip_.append(data, size); }
  bool can_copy(const PlannedRecord& record) const override { return record.crc32.has_value(); }
  void copy_from(int in_fd, uint64_t offset, uint64_t size, const std::string& in_path) override {
    zip_.append_from_file(in_fd, offset, size, in_path);
  }
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
  RawSink(const PlannedFile& file, int fd, const std::string& label) : fd_(fd), what_("writing " + label) {
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

std::unique_ptr<FileSink> make_file_sink(const PlannedFile& file, int fd, const std::string& label) {
  if (file.format == FileFormat::TorchSave) return std::make_unique<TorchSaveSink>(file, fd, label);
  return std::make_unique<RawSink>(file, fd, label);
}

}  // namespace fsdpshard
