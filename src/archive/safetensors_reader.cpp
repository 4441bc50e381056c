#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "archive/byte_order.h"
#include "archive/fd_io.h"
#include "fsdpshard/error.h"
#include "fsdpshard/safetensors.h"

namespace fsdpshard {
namespace {

// The reference implementation refuses larger headers (FORMATS.md §7).
constexpr uint64_t kMaxHeaderSize = 100'000'000;

}  // namespace

SafetensorsReader::SafetensorsReader(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw InputError(path_ + ": no such file");
    if (errno == EACCES) throw InputError(path_ + ": permission denied");
    throw_errno(path_ + ": cannot open");
  }
  try {
    file_size_ = archive::file_size_of(fd_, path_);
    if (file_size_ < 8) {
      throw InputError(path_ + ": truncated: " + std::to_string(file_size_) +
                       " bytes is too short for a safetensors file");
    }
    unsigned char length[8];
    archive::pread_exact(fd_, length, sizeof length, 0, path_, "the header length");
    header_size_ = archive::load_le64(length);
    if (header_size_ > kMaxHeaderSize) {
      throw InputError(path_ + ": not a safetensors file (header length " +
                       std::to_string(header_size_) + " exceeds the 100 MB limit)");
    }
    if (header_size_ > file_size_ - 8) {
      throw InputError(path_ + ": truncated: the header needs " + std::to_string(header_size_) +
                       " bytes but the file has " + std::to_string(file_size_ - 8) + " after the length");
    }
    std::string header(header_size_, '\0');
    archive::pread_exact(fd_, header.data(), header.size(), 8, path_, "the header");
    const uint64_t data_start = 8 + header_size_;
    entries_ = parse_safetensors_header(header, file_size_ - data_start, path_, &metadata_);
    index_.reserve(entries_.size());
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      entries_[i].data_offset += data_start;
      index_.emplace(entries_[i].name, i);
    }
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

SafetensorsReader::~SafetensorsReader() {
  if (fd_ >= 0) ::close(fd_);
}

SafetensorsReader::SafetensorsReader(SafetensorsReader&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      file_size_(other.file_size_),
      header_size_(other.header_size_),
      entries_(std::move(other.entries_)),
      metadata_(std::move(other.metadata_)),
      index_(std::move(other.index_)) {}

SafetensorsReader& SafetensorsReader::operator=(SafetensorsReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    file_size_ = other.file_size_;
    header_size_ = other.header_size_;
    entries_ = std::move(other.entries_);
    metadata_ = std::move(other.metadata_);
    index_ = std::move(other.index_);
  }
  return *this;
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
  archive::pread_exact(fd_, dst, length, entry.data_offset + offset, path_,
                       "tensor '" + entry.name + "'");
}

}  // namespace fsdpshard
