// Sequential output to a file descriptor with a bounded buffer: headers and small pieces
// are gathered into one write(2); large pieces bypass the buffer and go straight to the
// kernel, so memory stays bounded whatever the record sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fsdpshard::archive {

class BufferedWriter {
 public:
  // `what` names the output in error messages. Writing starts at file offset 0.
  BufferedWriter(int fd, std::string what, std::size_t capacity = 4u << 20);

  void write(const void* data, std::size_t size);
  void write(const std::string& bytes) { write(bytes.data(), bytes.size()); }
  // Appends `size` bytes of `in_fd` from `in_offset`, copied by the kernel (copy_exact);
  // `in_path` and `what` name the input bytes in errors.
  void copy_from(int in_fd, uint64_t in_offset, uint64_t size, const std::string& in_path, const std::string& what);
  void flush();

  uint64_t position() const { return position_; }  // bytes written, buffered ones included
  const std::string& what() const { return what_; }

 private:
  int fd_;
  std::string what_;
  std::size_t capacity_;
  std::vector<char> buffer_;  // holds the bytes at [position_ - buffer_.size(), position_)
  uint64_t position_ = 0;
};

}  // namespace fsdpshard::archive
