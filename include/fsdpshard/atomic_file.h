// All-or-nothing output (DESIGN.md principle 6): bytes go to a temporary file in the
// target's folder; commit() fsyncs it, renames it onto the target and fsyncs the folder.
// Destroyed without commit(), the temporary file is removed and the target untouched.
#pragma once

#include <string>

namespace fsdpshard {

class AtomicFile {
 public:
  // InputError when `target` exists and !overwrite, or its folder does not exist;
  // RuntimeFailure when the temporary file cannot be created.
  AtomicFile(std::string target, bool overwrite);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  int fd() const { return fd_; }
  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_; }
  // Writes all of [data, data+size) at the current position; RuntimeFailure on error
  // (ENOSPC, EFBIG…) naming the target.
  void write_all(const void* data, std::size_t size);
  void commit();
  void abandon();  // removes the temporary file now

 private:
  std::string target_;
  std::string temp_;
  int fd_ = -1;
  bool overwrite_;
};

// Writes a whole file atomically.
void write_file_atomically(const std::string& target, const std::string& contents, bool overwrite);

}  // namespace fsdpshard
