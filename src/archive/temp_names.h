// Naming and syncing helpers shared by AtomicFile and AtomicDirectory.
#pragma once

#include <functional>
#include <string>

namespace fsdpshard::archive {

struct SplitPath {
  std::string folder;  // "." when the path has no slash
  std::string name;
};
// Splits at the last slash; trailing slashes are ignored ("out/" -> ".", "out").
SplitPath split_path(const std::string& path);

// "<folder>/.<name>.fsdpshard-<kind>-<pid>-<random>": hidden, in the same folder (so a
// rename is atomic), unique per process and attempt.
std::string temp_sibling(const SplitPath& split, const char* kind);

// A new temporary sibling of `target` (temp_sibling(split, "tmp")), registered for removal
// on a fatal signal before it exists, so a signal right after its creation still finds it.
// `create(path)` makes the file or folder and returns false with errno set when it could
// not; EEXIST tries another name, any other error is thrown naming `target`.
struct RegisteredTemp {
  std::string path;
  int registry_slot;
};
RegisteredTemp create_registered_temp(const SplitPath& split, const std::string& target, bool is_directory,
                                      const std::function<bool(const std::string& path)>& create);

// InputError unless `folder` exists and is a folder; the message names `target`.
void require_folder(const std::string& folder, const std::string& target);

// Makes a rename in `folder` durable. Ignores file systems that cannot fsync folders.
void fsync_folder(const std::string& folder);

// renameat2(RENAME_NOREPLACE), falling back to check-then-rename where the file system
// lacks it. Returns false (errno EEXIST) when `to` exists.
bool rename_no_replace(const std::string& from, const std::string& to);

}  // namespace fsdpshard::archive
