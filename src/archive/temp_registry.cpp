#include "archive/temp_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "fsdpshard/util/error.h"

namespace fsdpshard::archive {
namespace {

constexpr int kSlots = 128;
// Deeper folders than this are not removed by the signal handler (ours are flat).
constexpr int kMaxRemoveDepth = 8;

enum SlotState : int { kFree = 0, kBusy = 1, kLive = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  bool is_directory = false;
  char path[PATH_MAX];
};

Slot g_slots[kSlots];

// Everything below runs inside signal handlers: only system calls, no allocation.

void remove_tree_at(int parent_fd, const char* name, int depth);

// Empties the open folder `dir_fd`, repeating until a pass finds nothing left, since
// reading a folder while removing its entries may skip some.
void empty_folder(int dir_fd, int depth) {
  alignas(8) char buffer[4096];
  for (int pass = 0; pass < 16; ++pass) {
    if (lseek(dir_fd, 0, SEEK_SET) < 0) return;
    bool removed_any = false;
    for (;;) {
      const long n = syscall(SYS_getdents64, dir_fd, buffer, sizeof buffer);
      if (n <= 0) break;
      for (long pos = 0; pos < n;) {
        struct linux_dirent64 {
          uint64_t d_ino;
          int64_t d_off;
          unsigned short d_reclen;
          unsigned char d_type;
          char d_name[1];
        };
        const auto* entry = reinterpret_cast<const linux_dirent64*>(buffer + pos);
        pos += entry->d_reclen;
        const char* name = entry->d_name;
        if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
        if (unlinkat(dir_fd, name, 0) == 0) {
          removed_any = true;
        } else if ((errno == EISDIR || errno == EPERM) && depth > 0) {
          remove_tree_at(dir_fd, name, depth - 1);
          removed_any = true;
        }
      }
    }
    if (!removed_any) return;
  }
}

void remove_tree_at(int parent_fd, const char* name, int depth) {
  const int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    empty_folder(fd, depth);
    close(fd);
  }
  unlinkat(parent_fd, name, AT_REMOVEDIR);
}

}  // namespace

int register_temp_path(const std::string& path, bool is_directory) {
  std::string absolute = path;
  if (absolute.empty() || absolute[0] != '/') {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) throw_errno("getcwd");
    absolute = std::string(cwd) + "/" + path;
  }
  if (absolute.size() >= PATH_MAX) throw RuntimeFailure(path + ": path too long");
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kBusy)) continue;
    std::memcpy(g_slots[i].path, absolute.c_str(), absolute.size() + 1);
    g_slots[i].is_directory = is_directory;
    g_slots[i].state.store(kLive, std::memory_order_release);
    return i;
  }
  throw RuntimeFailure("too many temporary outputs open at once (" + std::to_string(kSlots) +
                       ")");
}

void unregister_temp_path(int slot) noexcept {
  if (slot < 0 || slot >= kSlots) return;
  g_slots[slot].state.store(kFree, std::memory_order_release);
}

void remove_registered_temp_paths() noexcept {
  const int saved = errno;
  for (Slot& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) != kLive) continue;
    if (slot.is_directory) {
      remove_tree_at(AT_FDCWD, slot.path, kMaxRemoveDepth);
    } else {
      unlink(slot.path);
    }
  }
  errno = saved;
}

}  // namespace fsdpshard::archive
