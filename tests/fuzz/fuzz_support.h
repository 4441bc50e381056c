// Shared by the libFuzzer targets: the readers under test take a path, so each input is
// handed over as an in-memory file (memfd) reached through /proc/self/fd — no disk I/O,
// nothing left behind, and the readers' public API stays as it is.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace fsdpshard::fuzz {

class MemFile {
 public:
  MemFile(const uint8_t* data, std::size_t size) {
    fd_ = ::memfd_create("fsdpshard-fuzz", MFD_CLOEXEC);
    if (fd_ < 0) __builtin_trap();  // the harness itself is broken, not the code under test
    for (std::size_t done = 0; done < size;) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) __builtin_trap();
      done += static_cast<std::size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace fsdpshard::fuzz
