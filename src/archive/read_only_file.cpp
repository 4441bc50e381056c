#include "fsdpshard/archive/read_only_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "archive/fd_io.h"
#include "archive/file_kind.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {

namespace {

[[noreturn]] void throw_not_regular(const std::string& path, mode_t mode) {
  throw InputError(path + ": is " + archive::file_kind(mode) + ", not a regular file");
}

[[noreturn]] void throw_open_error(const std::string& path) {
  if (errno == ENOENT || errno == ENOTDIR) throw InputError(path + ": no such file");
  if (errno == EACCES) throw InputError(path + ": permission denied");
  if (errno == ELOOP) throw InputError(path + ": too many levels of symbolic links");
  throw_errno(path + ": cannot open");
}

}  // namespace

ReadOnlyFile::ReadOnlyFile(const std::string& path) {
  // stat first: opening some devices has effects of its own (a tape rewinds), and a FIFO
  // opened for reading waits for a writer.
  struct stat before {};
  if (::stat(path.c_str(), &before) != 0) throw_open_error(path);
  if (!S_ISREG(before.st_mode)) throw_not_regular(path, before.st_mode);
  // O_NONBLOCK: should the path become a FIFO between stat and open, open still returns
  // (and fstat below refuses it). Reads of a regular file ignore the flag.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd_ < 0) throw_open_error(path);
  struct stat opened {};
  if (::fstat(fd_, &opened) != 0) {
    const int saved = errno;
    ::close(fd_);
    errno = saved;
    throw_errno(path + ": fstat");
  }
  if (!S_ISREG(opened.st_mode)) {
    ::close(fd_);
    throw_not_regular(path, opened.st_mode);
  }
  size_ = static_cast<uint64_t>(opened.st_size);
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

std::string read_small_regular_file(const std::string& path, uint64_t max_bytes, const std::string& what) {
  ReadOnlyFile file;
  try {
    file = ReadOnlyFile(path);
  } catch (const InputError& e) {
    throw InputError(what + " " + e.what());
  }
  if (file.size() > max_bytes) {
    throw InputError(what + " " + path + ": " + std::to_string(file.size()) + " bytes is more than the " +
                     std::to_string(max_bytes >> 20) + " MiB such a file may hold");
  }
  std::string text(static_cast<std::size_t>(file.size()), '\0');
  archive::pread_exact(file.fd(), text.data(), text.size(), 0, path, what);
  return text;
}

}  // namespace fsdpshard
