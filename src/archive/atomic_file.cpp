#include "fsdpshard/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "archive/fd_io.h"
#include "archive/temp_names.h"
#include "archive/temp_registry.h"
#include "fsdpshard/error.h"

namespace fsdpshard {

using namespace archive;

AtomicFile::AtomicFile(std::string target, bool overwrite)
    : target_(std::move(target)), overwrite_(overwrite) {
  const SplitPath split = split_path(target_);
  if (split.name.empty() || split.name == "." || split.name == "..") {
    throw InputError(target_ + ": not a file name");
  }
  require_folder(split.folder, target_);
  struct stat st {};
  if (::stat(target_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw InputError(target_ + " is a folder, expected a file name");
    if (!overwrite_) throw InputError(target_ + " exists (use --force to overwrite)");
  }
  RegisteredTemp temp = create_registered_temp(split, target_, false, [this](const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    return fd_ >= 0;
  });
  temp_ = std::move(temp.path);
  registry_slot_ = temp.registry_slot;
  temp_exists_ = true;
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
