// All-or-nothing output (README, Safety): bytes go to a temporary file in the
// target's folder; commit() fsyncs it, renames it onto the target and fsyncs the folder.
// Destroyed without commit(), the temporary file is removed and the target untouched.
// Temporary files are also removed when the process is killed by SIGTERM/SIGINT/SIGHUP,
// once install_cleanup_signal_handlers() ran.
#pragma once

#include <cstddef>
#include <string>

namespace fsdpshard {

class AtomicFile {
 public:
  // InputError when `target` exists and !overwrite, exists and is not a regular file (a
  // device, FIFO, socket or folder is never replaced), ends with '/', or its folder does
  // not exist; RuntimeFailure when the temporary file cannot be created. The temporary
  // file is "<folder>/.<name>.fsdpshard-tmp-<pid>-<random>", mode 0666 less the umask;
  // replacing a file, it takes that file's mode and (where allowed) owner and group. With
  // overwrite, a symbolic link is followed: its target is replaced, the link kept.
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
  // InputError when !overwrite and the target appeared meanwhile; RuntimeFailure on I/O.
  void commit();
  void abandon();  // removes the temporary file now
  bool committed() const { return committed_; }

 private:
  std::string target_;
  std::string temp_;
  int fd_ = -1;
  bool overwrite_;
  bool committed_ = false;
  bool temp_exists_ = false;
  int registry_slot_ = -1;
};

// Writes a whole file atomically.
void write_file_atomically(const std::string& target, const std::string& contents, bool overwrite);

// Makes SIGTERM, SIGINT and SIGHUP remove every temporary file and folder of live
// AtomicFile / AtomicDirectory objects, then end the process as they would have (or call
// the handler that was installed before). Idempotent; call early in main().
void install_cleanup_signal_handlers();
// Removes all live temporary outputs now: for paths that end the process without
// unwinding (before MPI_Abort, std::abort). Async-signal-safe.
void remove_temp_outputs_now() noexcept;

}  // namespace fsdpshard
