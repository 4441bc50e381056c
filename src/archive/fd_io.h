// Whole-range reads and writes on file descriptors: the system calls may transfer less
// than asked or be interrupted, and callers want one clear error instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fsdpshard::archive {

// Reads exactly `length` bytes at `offset`. A short read (end of file) is an InputError
// "<path>: truncated while reading <what>"; an I/O error a RuntimeFailure.
void pread_exact(int fd, void* dst, std::size_t length, uint64_t offset, const std::string& path,
                 const std::string& what);

// Writes all bytes at the current position. RuntimeFailure naming `what`
// and the reason ("no space left on device", "file too large"…).
void write_exact(int fd, const void* data, std::size_t length, const std::string& what);

// Copies `length` bytes of `in_fd` from `in_offset` to `out_fd` at its current position:
// in the kernel with copy_file_range (no pass through this process's memory; a shared
// extent where the file system can), else through a small buffer. An input that ends
// early is an InputError "<in_path>: truncated while reading <what>"; write failures are
// RuntimeFailures naming `out_what`, as write_exact's.
void copy_exact(int in_fd, uint64_t in_offset, int out_fd, uint64_t length, const std::string& in_path,
                const std::string& what, const std::string& out_what);

// Size of the open file, RuntimeFailure when fstat fails.
uint64_t file_size_of(int fd, const std::string& path);

}  // namespace fsdpshard::archive
