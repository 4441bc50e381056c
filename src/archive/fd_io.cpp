#include "archive/fd_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fsdpshard/error.h"

namespace fsdpshard::archive {
namespace {

// Full disks and size limits deserve words a user acts on, not only strerror.
[[noreturn]] void throw_write_errno(const std::string& what) {
  const int saved = errno;
  if (saved == ENOSPC) throw RuntimeFailure(what + ": no space left on device");
  if (saved == EDQUOT) throw RuntimeFailure(what + ": disk quota exceeded");
  if (saved == EFBIG) throw RuntimeFailure(what + ": file too large for this file system");
  errno = saved;
  throw_errno(what);
}

}  // namespace

void pread_exact(int fd, void* dst, std::size_t length, uint64_t offset, const std::string& path,
                 const std::string& what) {
  auto* out = static_cast<char*>(dst);
  while (length > 0) {
    const ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(path + ": reading " + what);
    }
    if (n == 0) throw InputError(path + ": truncated while reading " + what);
    out += n;
    length -= static_cast<std::size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

void write_exact(int fd, const void* data, std::size_t length, const std::string& what) {
  const auto* in = static_cast<const char*>(data);
  while (length > 0) {
    const ssize_t n = ::write(fd, in, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_write_errno(what);
    }
    // write(2) returning 0 for a non-empty buffer means no progress is possible.
    if (n == 0) {
      errno = ENOSPC;
      throw_write_errno(what);
    }
    in += n;
    length -= static_cast<std::size_t>(n);
  }
}

void pwrite_exact(int fd, const void* data, std::size_t length, uint64_t offset,
                  const std::string& what) {
  const auto* in = static_cast<const char*>(data);
  while (length > 0) {
    const ssize_t n = ::pwrite(fd, in, length, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_write_errno(what);
    }
    if (n == 0) {
      errno = ENOSPC;
      throw_write_errno(what);
    }
    in += n;
    length -= static_cast<std::size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

uint64_t file_size_of(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(path + ": fstat");
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace fsdpshard::archive
