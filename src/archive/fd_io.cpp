#include "archive/fd_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "fsdpshard/util/error.h"

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

void copy_exact(int in_fd, uint64_t in_offset, int out_fd, uint64_t length, const std::string& in_path,
                const std::string& what, const std::string& out_what) {
  while (length > 0) {
    auto from = static_cast<loff_t>(in_offset);
    const ssize_t n = ::copy_file_range(in_fd, &from, out_fd, nullptr, length, 0);
    if (n > 0) {
      in_offset += static_cast<uint64_t>(n);
      length -= static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)) throw_write_errno(out_what);
    if (n < 0 && errno == EIO) throw_errno(out_what + ": copying " + what + " from " + in_path);
    // Not possible here (another file system on an older kernel, a special file…), or 0 at
    // what looks like the end of the input: the plain path copies or names the truncation.
    break;
  }
  constexpr uint64_t kBounce = 1u << 20;
  std::unique_ptr<char[]> buffer(length > 0 ? new char[std::min(length, kBounce)] : nullptr);
  while (length > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min(length, kBounce));
    pread_exact(in_fd, buffer.get(), n, in_offset, in_path, what);
    write_exact(out_fd, buffer.get(), n, out_what);
    in_offset += n;
    length -= n;
  }
}

uint64_t file_size_of(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(path + ": fstat");
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace fsdpshard::archive
