#include "fsdpshard/archive/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "archive/fd_io.h"
#include "archive/temp_names.h"
#include "archive/temp_registry.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {

using namespace archive;

namespace {

// A symbolic link to a file is kept: its target is what gets replaced (as editors do).
std::string follow_links(const std::string& target) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return target;
  char resolved[PATH_MAX];
  if (::realpath(target.c_str(), resolved) == nullptr) {
    throw InputError(target + " is a symbolic link to nothing (" + std::strerror(errno) + ")");
  }
  return resolved;
}

// Only a regular file is ever replaced; anything else keeps its node (a device, a FIFO).
void require_replaceable(const std::string& target, const struct stat& st) {
  if (S_ISDIR(st.st_mode)) throw InputError(target + " is a folder, expected a file name");
  if (!S_ISREG(st.st_mode)) throw InputError(target + " exists and is not a regular file; fsdpshard does not replace it");
}

// The replacement keeps the replaced file's permissions and, where this process may set
// them, its owner and group (a 0600 file stays 0600 whatever the umask).
void keep_identity(int fd, const struct stat& old) {
  (void)::fchmod(fd, old.st_mode & 07777);
  if (::fchown(fd, old.st_uid, old.st_gid) != 0) (void)::fchown(fd, static_cast<uid_t>(-1), old.st_gid);
  // chown may clear set-id bits: put them back where it did.
  (void)::fchmod(fd, old.st_mode & 07777);
}

}  // namespace

AtomicFile::AtomicFile(std::string target, bool overwrite)
    : target_(std::move(target)), overwrite_(overwrite) {
  if (!target_.empty() && target_.back() == '/') throw InputError(target_ + ": ends with '/', expected a file name");
  if (overwrite_) target_ = follow_links(target_);
  const SplitPath split = split_path(target_);
  if (split.name.empty() || split.name == "." || split.name == "..") {
    throw InputError(target_ + ": not a file name");
  }
  require_folder(split.folder, target_);
  struct stat st {};
  const bool replaces = ::lstat(target_.c_str(), &st) == 0;
  if (replaces) {
    if (!overwrite_) throw InputError(target_ + " exists (use --force to overwrite)");
    require_replaceable(target_, st);
  }
  RegisteredTemp temp = create_registered_temp(split, target_, false, [this](const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    return fd_ >= 0;
  });
  temp_ = std::move(temp.path);
  registry_slot_ = temp.registry_slot;
  temp_exists_ = true;
  if (replaces) keep_identity(fd_, st);
}

AtomicFile::~AtomicFile() { abandon(); }

void AtomicFile::write_all(const void* data, std::size_t size) {
  if (fd_ < 0) throw RuntimeFailure(target_ + ": write after commit or abandon");
  write_exact(fd_, data, size, "writing " + target_);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw RuntimeFailure(target_ + ": commit after commit or abandon");
  if (::fsync(fd_) != 0) throw_errno(target_ + ": fsync");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw_errno(target_ + ": close");  // NFS reports write errors here
  if (overwrite_) {
    struct stat st {};
    if (::lstat(target_.c_str(), &st) == 0) require_replaceable(target_, st);  // it may have changed meanwhile
    if (::rename(temp_.c_str(), target_.c_str()) != 0) throw_errno(target_ + ": rename");
  } else if (!rename_no_replace(temp_, target_)) {
    throw InputError(target_ + " exists (use --force to overwrite)");
  }
  temp_exists_ = false;
  unregister_temp_path(registry_slot_);
  registry_slot_ = -1;
  committed_ = true;
  fsync_folder(split_path(target_).folder);
}

void AtomicFile::abandon() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (temp_exists_) {
    ::unlink(temp_.c_str());
    temp_exists_ = false;
  }
  unregister_temp_path(registry_slot_);
  registry_slot_ = -1;
}

void write_file_atomically(const std::string& target, const std::string& contents,
                           bool overwrite) {
  AtomicFile file(target, overwrite);
  file.write_all(contents.data(), contents.size());
  file.commit();
}

}  // namespace fsdpshard
