// An input file opened for reading: owns its descriptor (closed on destruction, movable,
// not copyable) and knows its size, so that readers built on it need no hand-written
// close/move code.
#pragma once

#include <cstdint>
#include <string>

namespace fsdpshard {

class ReadOnlyFile {
 public:
  ReadOnlyFile() = default;
  // Opens `path`. InputError "<path>: no such file" / "permission denied"; other open or
  // fstat failures are RuntimeFailures.
  explicit ReadOnlyFile(const std::string& path);
  ~ReadOnlyFile();
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  ReadOnlyFile(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile& operator=(ReadOnlyFile&& other) noexcept;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace fsdpshard
