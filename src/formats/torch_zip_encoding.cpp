// torch.save's zip as fsdpshard writes it (docs/FORMATS.md §1): data.pkl, byteorder, the
// storages as data/<key>, version.
#include <filesystem>

#include "fsdpshard/formats/file_encoding.h"
#include "fsdpshard/plan/plan.h"
#include "fsdpshard/archive/zip_writer.h"

namespace fsdpshard {
namespace {

class TorchZipSink : public FileSink {
 public:
  TorchZipSink(const PlannedFile& file, int fd, const std::string& label)
      : zip_(fd, file.archive_root, ZipWriterOptions{0xFFFFFFFFull, label}) {
    zip_.add("data.pkl", file.header);
    zip_.add("byteorder", std::string_view("little"));
  }
  void begin_record(const PlannedRecord& record) override { zip_.begin(record.name, record.bytes(), record.crc32); }
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

}  // namespace

std::shared_ptr<const FileEncoding> torch_zip_encoding() {
  static const auto encoding = std::make_shared<const SinkEncoding<TorchZipSink>>();
  return encoding;
}

std::string torch_archive_root(const std::string& file_name) {
  const std::string stem = std::filesystem::path(file_name).stem().string();
  return stem.empty() ? "archive" : stem;
}

}  // namespace fsdpshard
