// Naming and syncing helpers shared by AtomicFile and AtomicDirectory.
#pragma once

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

// InputError unless `folder` exists and is a folder; the message names `target`.
void require_folder(const std::string& folder, const std::string& target);

// Makes a rename in `folder` durable. Ignores file systems that cannot fsync folders.
void fsync_folder(const std::string& folder);

// renameat2(RENAME_NOREPLACE), falling back to check-then-rename where the file system
// lacks it. Returns false (errno EEXIST) when `to` exists.
bool rename_no_replace(const std::string& from, const std::string& to);

}  // namespace fsdpshard::archive
