#include "archive/buffered_writer.h"

#include <cstring>
#include <stdexcept>

#include "archive/fd_io.h"

namespace fsdpshard::archive {

BufferedWriter::BufferedWriter(int fd, std::string what, std::size_t capacity)
    : fd_(fd), what_(std::move(what)), capacity_(capacity) {}

void BufferedWriter::write(const void* data, std::size_t size) {
  if (size == 0) return;
  if (buffer_.size() + size <= capacity_) {
    const auto* bytes = static_cast<const char*>(data);
    buffer_.insert(buffer_.end(), bytes, bytes + size);
  } else {
    // Too big to gather: keep the order by flushing what is buffered first.
    flush();
    if (size < capacity_ / 2) {
      const auto* bytes = static_cast<const char*>(data);
      buffer_.insert(buffer_.end(), bytes, bytes + size);
    } else {
      write_exact(fd_, data, size, what_);
    }
  }
  position_ += size;
}

void BufferedWriter::copy_from(int in_fd, uint64_t in_offset, uint64_t size, const std::string& in_path,
                               const std::string& what) {
  flush();  // the copy lands at the descriptor's position, after everything buffered
  copy_exact(in_fd, in_offset, fd_, size, in_path, what, what_);
  position_ += size;
}

void BufferedWriter::flush() {
  if (buffer_.empty()) return;
  write_exact(fd_, buffer_.data(), buffer_.size(), what_);
  buffer_.clear();
}

}  // namespace fsdpshard::archive
