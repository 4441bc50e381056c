#include "archive/temp_names.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "archive/temp_registry.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::archive {
namespace {

uint64_t random_bits() {
  uint64_t value = 0;
  if (getrandom(&value, sizeof value, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof value)) {
    // No entropy yet (early boot): time and address still make collisions unlikely, and
    // O_EXCL/mkdir catch the rest.
    value = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
            reinterpret_cast<uintptr_t>(&value);
  }
  return value;
}

}  // namespace

SplitPath split_path(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const std::size_t slash = p.rfind('/');
  if (slash == std::string::npos) return {".", p};
  if (slash == 0) return {"/", p.substr(1)};
  return {p.substr(0, slash), p.substr(slash + 1)};
}

std::string temp_sibling(const SplitPath& split, const char* kind) {
  // Keep the whole name under NAME_MAX (255) even for long targets.
  const std::string name = split.name.substr(0, 180);
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".fsdpshard-%s-%ld-%012llx", kind,
                static_cast<long>(getpid()),
                static_cast<unsigned long long>(random_bits() & 0xFFFFFFFFFFFFull));
  const std::string folder = split.folder == "/" ? "" : split.folder;
  return folder + "/." + name + suffix;
}

RegisteredTemp create_registered_temp(const SplitPath& split, const std::string& target, bool is_directory,
                                      const std::function<bool(const std::string& path)>& create) {
  const std::string what = is_directory ? "folder" : "file";
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string path = temp_sibling(split, "tmp");
    const int slot = register_temp_path(path, is_directory);
    if (create(path)) return {std::move(path), slot};
    const int saved = errno;
    unregister_temp_path(slot);
    if (saved != EEXIST) {
      errno = saved;
      throw_errno(target + ": cannot create temporary " + what + " " + path);
    }
  }
  throw RuntimeFailure(target + ": cannot find a free temporary " + what + " name");
}

void require_folder(const std::string& folder, const std::string& target) {
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) {
    throw InputError(target + ": folder '" + folder + "' does not exist");
  }
  if (!S_ISDIR(st.st_mode)) throw InputError(target + ": '" + folder + "' is not a folder");
}

void fsync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno(folder + ": open to sync");
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    throw_errno(folder + ": fsync");
  }
  ::close(fd);
}

bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return true;
  }
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) throw_errno("rename " + from + " to " + to);
  struct stat st {};
  if (::lstat(to.c_str(), &st) == 0) {
    errno = EEXIST;
    return false;
  }
  if (::rename(from.c_str(), to.c_str()) != 0) throw_errno("rename " + from + " to " + to);
  return true;
}

}  // namespace fsdpshard::archive
