// An input file opened for reading: owns its descriptor (closed on destruction, movable,
// not copyable) and knows its size, so that readers built on it need no hand-written
// close/move code. Only regular files are inputs: a FIFO, socket, device or directory is
// refused before anything could block on it (issue 11: `inspect FIFO` hung forever).
#pragma once

#include <cstdint>
#include <string>

namespace fsdpshard {

class ReadOnlyFile {
 public:
  ReadOnlyFile() = default;
  // Opens `path`. InputError "<path>: no such file" / "permission denied" / "is a FIFO
  // (named pipe), not a regular file" (and the other non-regular kinds); other open or
  // fstat failures are RuntimeFailures. Never blocks, whatever `path` is.
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

// The whole of a small regular file (a --merge YAML, an index, config.yaml), opened as
// ReadOnlyFile is. InputError "<what> <path>: ..." when it is not a regular file or holds
// more than `max_bytes`.
std::string read_small_regular_file(const std::string& path, uint64_t max_bytes, const std::string& what);

}  // namespace fsdpshard
