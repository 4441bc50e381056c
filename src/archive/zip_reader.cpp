#include "fsdpshard/archive/zip_reader.h"

#include <libdeflate.h>

#include <memory>
#include <utility>

#include "archive/fd_io.h"
#include "archive/zip_directory.h"
#include "fsdpshard/archive/crc32.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

// read() materialises a whole record; it is meant for data.pkl and other small records.
// Tensor data goes through read_at() in bounded pieces.
constexpr uint64_t kMaxWholeRecord = 1ull << 30;
constexpr std::size_t kCrcBufferSize = 4u << 20;

std::string record_label(const std::string& path, const ZipRecord& record) {
  return path + ": record '" + record.name + "'";
}

}  // namespace

ZipReader::ZipReader(std::string path) : path_(std::move(path)), file_(path_) {
  archive::ZipDirectory dir = archive::read_zip_directory(file_.fd(), path_, file_.size());
  root_ = std::move(dir.root);
  records_ = std::move(dir.records);
  index_.reserve(records_.size());
  for (std::size_t i = 0; i < records_.size(); ++i) index_.emplace(records_[i].name, i);
}

const ZipRecord* ZipReader::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &records_[it->second];
}

const ZipRecord& ZipReader::require(std::string_view name) const {
  const ZipRecord* record = find(name);
  if (!record) {
    throw InputError(path_ + ": record '" + std::string(name) + "' is missing from the archive");
  }
  return *record;
}

std::string ZipReader::read(const ZipRecord& record) const {
  if (record.size > kMaxWholeRecord || record.compressed_size > kMaxWholeRecord) {
    throw InputError(record_label(path_, record) + ": " + std::to_string(record.size) +
                     " bytes is too large to read at once");
  }
  std::string out(record.size, '\0');
  if (record.method == 0) {
    archive::pread_exact(file_.fd(), out.data(), out.size(), record.data_offset, path_,
                         "record '" + record.name + "'");
    return out;
  }
  std::string packed(record.compressed_size, '\0');
  archive::pread_exact(file_.fd(), packed.data(), packed.size(), record.data_offset, path_,
                       "record '" + record.name + "'");
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> inflater(
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  if (!inflater) throw RuntimeFailure("out of memory allocating a decompressor");
  std::size_t produced = 0;
  const libdeflate_result result = libdeflate_deflate_decompress(
      inflater.get(), packed.data(), packed.size(), out.data(), out.size(), &produced);
  if (result != LIBDEFLATE_SUCCESS || produced != out.size()) {
    throw InputError(record_label(path_, record) + ": corrupt deflate data");
  }
  return out;
}

void ZipReader::read_at(const ZipRecord& record, uint64_t offset, void* dst,
                        std::size_t length) const {
  if (record.method != 0) {
    throw InputError(record_label(path_, record) +
                     ": compressed records cannot be read in pieces (torch.save stores "
                     "records uncompressed)");
  }
  if (offset > record.size || length > record.size - offset) {
    throw InputError(record_label(path_, record) + ": range " + std::to_string(offset) + "+" +
                     std::to_string(length) + " is outside its " + std::to_string(record.size) +
                     " bytes");
  }
  archive::pread_exact(file_.fd(), dst, length, record.data_offset + offset, path_,
                       "record '" + record.name + "'");
}

uint32_t ZipReader::compute_crc(const ZipRecord& record) const {
  if (record.method != 0) {
    const std::string bytes = read(record);
    return crc32_update(0, bytes.data(), bytes.size());
  }
  std::unique_ptr<char[]> buffer(new char[kCrcBufferSize]);
  uint32_t crc = 0;
  for (uint64_t done = 0; done < record.size;) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<uint64_t>(kCrcBufferSize, record.size - done));
    read_at(record, done, buffer.get(), n);
    crc = crc32_update(crc, buffer.get(), n);
    done += n;
  }
  return crc;
}

}  // namespace fsdpshard
