#include "formats/archive_copy.h"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <vector>

#include "fsdpshard/util/error.h"
#include "fsdpshard/formats/file_encoding.h"
#include "fsdpshard/archive/zip_writer.h"

namespace fsdpshard {
namespace {

// The data alignment the copy must keep: what the input's '.storage_alignment' says
// (torch 2.7+; torch.load computes storage offsets from it), else torch's 64.
uint64_t storage_alignment_of(const ZipReader& in) {
  const ZipRecord* record = in.find(kStorageAlignmentRecord);
  if (!record) return ZipWriterOptions{}.alignment;
  const std::string text = record->size <= 16 ? in.read(*record) : std::string("(") + std::to_string(record->size) + " bytes)";
  uint64_t value = 0;
  bool digits = !text.empty();
  for (char c : text) {
    if (c < '0' || c > '9' || value > kMaxAlignment) {
      digits = false;
      break;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!digits || value < 1 || value > kMaxAlignment) {
    throw InputError(in.path() + ": record '.storage_alignment' holds '" + text + "', not an alignment in 1.." +
                     std::to_string(kMaxAlignment));
  }
  return value;
}

// One record of the copy, in the input's order: written from `bytes` when planning holds
// them (the new data.pkl, an inflated record), else streamed as the file's next
// PlannedRecord.
struct CopiedEntry {
  std::string name;
  std::optional<std::string> bytes;
};

// The copy's layout: the record order, which records are at hand, and the alignment.
class ArchiveCopyEncoding : public FileEncoding {
 public:
  ArchiveCopyEncoding(std::vector<CopiedEntry> entries, uint64_t alignment)
      : entries_(std::move(entries)), alignment_(alignment) {}
  std::unique_ptr<FileSink> open_sink(const PlannedFile& file, int fd, const std::string& label) const override;

 private:
  friend class ArchiveCopySink;
  std::vector<CopiedEntry> entries_;
  uint64_t alignment_;
};

class ArchiveCopySink : public FileSink {
 public:
  ArchiveCopySink(const ArchiveCopyEncoding& layout, const PlannedFile& file, int fd, const std::string& label)
      : entries_(layout.entries_), zip_(fd, file.archive_root, options(layout, label)) {
    add_entries_at_hand();
  }
  void begin_record(const PlannedRecord& record) override {
    if (next_ == entries_.size() || entries_[next_].name != record.name) {
      throw std::logic_error("archive copy: record " + record.name + " is not the next one of the input");
    }
    zip_.begin(record.name, record.bytes(), record.crc32);
  }
  void append(const void* data, std::size_t size) override { zip_.append(data, size); }
  bool can_copy(const PlannedRecord& record) const override { return record.crc32.has_value(); }
  void copy_from(int in_fd, uint64_t offset, uint64_t size, const std::string& in_path) override {
    zip_.append_from_file(in_fd, offset, size, in_path);
  }
  void end_record() override {
    zip_.end();
    ++next_;
    add_entries_at_hand();
  }
  void finish() override {
    if (next_ != entries_.size()) throw std::logic_error("archive copy: records missing from the plan");
    zip_.finish();
  }

 private:
  static ZipWriterOptions options(const ArchiveCopyEncoding& layout, const std::string& label) {
    ZipWriterOptions options;
    options.alignment = layout.alignment_;
    options.label = label;
    return options;
  }
  // Writes the records planning holds, up to the next streamed one.
  void add_entries_at_hand() {
    for (; next_ < entries_.size() && entries_[next_].bytes; ++next_) zip_.add(entries_[next_].name, *entries_[next_].bytes);
  }

  const std::vector<CopiedEntry>& entries_;
  ZipWriter zip_;
  std::size_t next_ = 0;
};

std::unique_ptr<FileSink> ArchiveCopyEncoding::open_sink(const PlannedFile& file, int fd,
                                                         const std::string& label) const {
  return std::make_unique<ArchiveCopySink>(*this, file, fd, label);
}

}  // namespace

Plan plan_archive_copy(const Checkpoint& ckpt, const std::string& pickle, const std::string& output) {
  const ZipReader& in = ckpt.archive();
  const uint64_t alignment = storage_alignment_of(in);
  Plan plan;
  plan.inputs = ckpt.inputs();
  plan.output = output;
  plan.single_file = true;
  PlannedFile file;
  file.name = std::filesystem::path(output).filename().string();
  file.writer = 0;
  file.archive_root = in.root();
  std::vector<CopiedEntry> entries;
  for (const ZipRecord& record : in.records()) {
    if (record.name == "data.pkl") {
      entries.push_back({record.name, pickle});
    } else if (record.method != 0) {
      entries.push_back({record.name, in.read(record)});
    } else {
      // Stored: its bytes go file to file, with the CRC the input states for them.
      entries.push_back({record.name, std::nullopt});
      PlannedRecord r;
      r.name = record.name;
      r.source_dtype = r.dtype = DType::UInt8;
      r.set_source(0, record.data_offset, record.size);
      r.crc32 = record.crc32;
      file.records.push_back(std::move(r));
    }
  }
  file.encoding = std::make_shared<const ArchiveCopyEncoding>(std::move(entries), alignment);
  plan.files.push_back(std::move(file));
  return plan;
}

}  // namespace fsdpshard
