#include "fsdpshard/read_only_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "archive/fd_io.h"
#include "fsdpshard/error.h"

namespace fsdpshard {

ReadOnlyFile::ReadOnlyFile(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw InputError(path + ": no such file");
    if (errno == EACCES) throw InputError(path + ": permission denied");
    throw_errno(path + ": cannot open");
  }
  try {
    size_ = archive::file_size_of(fd_, path);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

ReadOnlyFile::~ReadOnlyFile() {
  if (fd_ >= 0) ::close(fd_);
}

ReadOnlyFile::ReadOnlyFile(ReadOnlyFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

ReadOnlyFile& ReadOnlyFile::operator=(ReadOnlyFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

}  // namespace fsdpshard
