#include "fsdpshard/archive/atomic_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "archive/previous_output.h"
#include "archive/temp_names.h"
#include "archive/temp_registry.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {

using namespace archive;

namespace {

void remove_tree(const std::string& path) noexcept {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

// --force replaces a previous fsdpshard output and nothing else (archive/previous_output.h).
std::vector<std::string> require_previous_output(const std::string& target) {
  std::string why_not;
  auto files = previous_output_files(target, why_not);
  if (!files) {
    throw InputError(target + " is not empty and not an output of fsdpshard (" + why_not +
                     "); --force replaces only a previous fsdpshard output, never other files");
  }
  return *files;
}

// What replaces an existing folder or file keeps its permissions and, where allowed, owner.
void keep_identity(const std::string& path, const struct stat& old) {
  if (::lchown(path.c_str(), old.st_uid, old.st_gid) != 0) (void)::lchown(path.c_str(), static_cast<uid_t>(-1), old.st_gid);
  (void)::chmod(path.c_str(), old.st_mode & 07777);
}

// Each new file that replaces one of the old output's keeps that file's mode and owner.
void keep_identities(const std::string& new_folder, const std::string& old_folder) {
  for (const auto& entry : std::filesystem::directory_iterator(new_folder)) {
    struct stat old {};
    const std::string name = entry.path().filename().string();
    if (::lstat((old_folder + "/" + name).c_str(), &old) == 0 && S_ISREG(old.st_mode)) {
      keep_identity(entry.path().string(), old);
    }
  }
}

// Removes the old output, now at `path`: only the files recognised as fsdpshard's, then
// the folder. Should a file of someone else's have appeared there since, it stays, with
// the folder, and a warning says where.
void remove_old_output(const std::string& path, const std::vector<std::string>& files) noexcept {
  for (const std::string& name : files) ::unlink((path + "/" + name).c_str());
  if (::rmdir(path.c_str()) != 0) {
    std::fprintf(stderr, "fsdpshard: warning: kept %s: it holds files fsdpshard did not write\n", path.c_str());
  }
}

// Files written into the folder by other means than AtomicFile may still sit in the page
// cache; the rename must not become durable before their contents.
void fsync_files_in(const std::string& folder) {
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno(path + ": open to sync");
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) {
      errno = saved;
      throw_errno(path + ": fsync");
    }
  }
  fsync_folder(folder);
}

}  // namespace

AtomicDirectory::AtomicDirectory(std::string target, bool overwrite)
    : target_(std::move(target)), overwrite_(overwrite) {
  const SplitPath split = split_path(target_);
  if (split.name.empty() || split.name == "." || split.name == "..") {
    throw InputError(target_ + ": not a folder name");
  }
  require_folder(split.folder, target_);
  struct stat st {};
  const bool replaces = ::lstat(target_.c_str(), &st) == 0;
  if (replaces) {
    if (!S_ISDIR(st.st_mode)) throw InputError(target_ + " exists and is not a folder");
    if (!overwrite_) throw InputError(target_ + " exists (use --force to overwrite)");
    require_previous_output(target_);
  }
  RegisteredTemp temp = create_registered_temp(split, target_, true, [](const std::string& path) {
    return ::mkdir(path.c_str(), 0777) == 0;
  });
  temp_ = std::move(temp.path);
  registry_slot_ = temp.registry_slot;
  temp_exists_ = true;
  if (replaces) keep_identity(temp_, st);
}

AtomicDirectory::~AtomicDirectory() { abandon(); }

void AtomicDirectory::abandon() {
  if (temp_exists_) {
    remove_tree(temp_);
    temp_exists_ = false;
  }
  unregister_temp_path(registry_slot_);
  registry_slot_ = -1;
}

void AtomicDirectory::commit() {
  if (!temp_exists_) throw RuntimeFailure(target_ + ": commit after commit or abandon");
  fsync_files_in(temp_);
  struct stat st {};
  const bool exists = ::lstat(target_.c_str(), &st) == 0;
  if (exists && overwrite_) {
    replace_existing();
  } else if (!rename_no_replace(temp_, target_)) {
    throw InputError(target_ + " exists (use --force to overwrite)");
  }
  if (temp_exists_) {  // replace_existing() leaves nothing to remove
    temp_exists_ = false;
    unregister_temp_path(registry_slot_);
    registry_slot_ = -1;
  }
  committed_ = true;
  fsync_folder(split_path(target_).folder);
}

// Swaps the new folder in for the old one in a single step where the kernel allows
// (RENAME_EXCHANGE), so the target never goes missing; the old contents then sit at the
// temporary name, still registered for cleanup, and are removed.
void AtomicDirectory::replace_existing() {
  // Checked again: the folder may have changed since the constructor looked.
  const std::vector<std::string> old_files = require_previous_output(target_);
  keep_identities(temp_, target_);
  if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) == 0) {
    remove_old_output(temp_, old_files);
  } else {
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) throw_errno(target_ + ": rename");
    // Older file systems: move the old folder aside, the new one in, drop the old.
    const std::string aside = temp_sibling(split_path(target_), "old");
    const int aside_slot = register_temp_path(aside, true);
    if (::rename(target_.c_str(), aside.c_str()) != 0) {
      const int saved = errno;
      unregister_temp_path(aside_slot);
      errno = saved;
      throw_errno(target_ + ": move aside");
    }
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
      const int saved = errno;
      ::rename(aside.c_str(), target_.c_str());  // put the old folder back
      unregister_temp_path(aside_slot);
      errno = saved;
      throw_errno(target_ + ": rename");
    }
    remove_old_output(aside, old_files);
    unregister_temp_path(aside_slot);
  }
  temp_exists_ = false;
  unregister_temp_path(registry_slot_);
  registry_slot_ = -1;
}

}  // namespace fsdpshard
