#include <utility>

#include "archive/byte_order.h"
#include "archive/fd_io.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/safetensors.h"

namespace fsdpshard {
namespace {

// The reference implementation refuses larger headers (docs/FORMATS.md §7).
constexpr uint64_t kMaxHeaderSize = 100'000'000;

}  // namespace

SafetensorsReader::SafetensorsReader(std::string path) : path_(std::move(path)), file_(path_) {
  if (file_.size() < 8) {
    throw InputError(path_ + ": truncated: " + std::to_string(file_.size()) +
                     " bytes is too short for a safetensors file");
  }
  unsigned char length[8];
  archive::pread_exact(file_.fd(), length, sizeof length, 0, path_, "the header length");
  header_size_ = archive::load_le64(length);
  if (header_size_ > kMaxHeaderSize) {
    throw InputError(path_ + ": not a safetensors file (header length " +
                     std::to_string(header_size_) + " exceeds the 100 MB limit)");
  }
  if (header_size_ > file_.size() - 8) {
    throw InputError(path_ + ": truncated: the header needs " + std::to_string(header_size_) +
                     " bytes but the file has " + std::to_string(file_.size() - 8) + " after the length");
  }
  std::string header(header_size_, '\0');
  archive::pread_exact(file_.fd(), header.data(), header.size(), 8, path_, "the header");
  const uint64_t data_start = 8 + header_size_;
  entries_ = parse_safetensors_header(header, file_.size() - data_start, path_, &metadata_);
  index_.reserve(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    entries_[i].data_offset += data_start;
    index_.emplace(entries_[i].name, i);
  }
}

const SafetensorsEntry* SafetensorsReader::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

void SafetensorsReader::read_at(const SafetensorsEntry& entry, uint64_t offset, void* dst,
                                std::size_t length) const {
  if (offset > entry.nbytes || length > entry.nbytes - offset) {
    throw InputError(path_ + ": tensor '" + entry.name + "': range " + std::to_string(offset) +
                     "+" + std::to_string(length) + " is outside its " +
                     std::to_string(entry.nbytes) + " bytes");
  }
  archive::pread_exact(file_.fd(), dst, length, entry.data_offset + offset, path_,
                       "tensor '" + entry.name + "'");
}

}  // namespace fsdpshard
