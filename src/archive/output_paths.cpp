#include "fsdpshard/archive/output_paths.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "archive/file_kind.h"
#include "archive/previous_output.h"
#include "archive/temp_names.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

using FileId = std::pair<dev_t, ino_t>;

// The folder an output goes into must be there: said now, not at the final rename.
void require_parent_folder(const std::string& output, const std::string& folder) {
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) {
    if (errno == ENOENT) throw InputError("-o " + output + ": folder '" + folder + "' does not exist");
    if (errno == ENOTDIR) throw InputError("-o " + output + ": '" + folder + "' is not a folder (a part of it is a file)");
    throw InputError("-o " + output + ": folder '" + folder + "': " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) throw InputError("-o " + output + ": '" + folder + "' is not a folder");
}

void check_file_output(const std::string& output, bool force) {
  if (output.back() == '/') throw InputError("-o " + output + ": ends with '/', but this output is a file");
  const archive::SplitPath split = archive::split_path(output);
  if (split.name == "." || split.name == "..") throw InputError("-o " + output + ": not a file name");
  struct stat link {};
  if (::lstat(output.c_str(), &link) != 0) {
    require_parent_folder(output, split.folder);
    return;
  }
  struct stat st {};
  if (::stat(output.c_str(), &st) != 0) {
    throw InputError("-o " + output + " is a symbolic link to nothing (" + std::strerror(errno) + ")");
  }
  if (S_ISDIR(st.st_mode)) throw InputError("-o " + output + " is a folder, expected a file name");
  if (!S_ISREG(st.st_mode)) {
    throw InputError("-o " + output + " is " + archive::file_kind(st.st_mode) +
                     "; fsdpshard writes regular files only and never replaces one that is not (--dry-run writes "
                     "nothing)");
  }
  if (!force) throw InputError(output + " exists (use --force to overwrite)");
}

void check_folder_output(const std::string& output, bool force) {
  const archive::SplitPath split = archive::split_path(output);
  if (split.name.empty() || split.name == "." || split.name == "..") {
    throw InputError("-o " + output + ": not a folder name");
  }
  struct stat st {};
  if (::lstat(output.c_str(), &st) != 0) {
    require_parent_folder(output, split.folder);
    return;
  }
  if (!S_ISDIR(st.st_mode)) throw InputError("-o " + output + " exists and is " + archive::file_kind(st.st_mode) + ", not a folder");
  if (!force) throw InputError(output + " exists (use --force to overwrite)");
  struct stat parent {};
  if (::stat(split.folder.c_str(), &parent) == 0 && parent.st_dev != st.st_dev) {
    throw InputError("-o " + output + " is a mount point; --force cannot replace it");
  }
  std::string why_not;
  if (!archive::previous_output_files(output, why_not)) {
    throw InputError("-o " + output + " is not empty and not an output of fsdpshard (" + why_not +
                     "); --force replaces only a previous fsdpshard output, never other files");
  }
}

bool identity(const std::string& path, FileId& id) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  id = {st.st_dev, st.st_ino};
  return true;
}

std::string real_path(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : std::string();
}

// True when the folder `id` is `path` or one of its ancestors (after resolving links).
bool folder_holds(const FileId& id, const std::string& path) {
  std::string at = real_path(path);
  while (!at.empty()) {
    FileId here;
    if (identity(at, here) && here == id) return true;
    if (at == "/") break;
    const std::size_t slash = at.rfind('/');
    at = slash == 0 ? "/" : at.substr(0, slash);
  }
  return false;
}

// `folder`/`name` for each regular file directly in `folder` (index, config.yaml, shards).
std::vector<std::string> files_in(const std::string& folder) {
  std::vector<std::string> files;
  DIR* dir = ::opendir(folder.c_str());
  if (dir == nullptr) return files;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    struct stat st {};
    if (name != "." && name != ".." && ::fstatat(::dirfd(dir), name.c_str(), &st, 0) == 0 && S_ISREG(st.st_mode)) {
      files.push_back(folder + "/" + name);
    }
  }
  ::closedir(dir);
  return files;
}

}  // namespace

void check_output_path(const std::string& output, OutputKind kind, bool force) {
  if (output.empty()) throw InputError("-o: the output path is empty");
  if (kind == OutputKind::File) {
    check_file_output(output, force);
  } else {
    check_folder_output(output, force);
  }
}

void check_output_spares_inputs(const std::string& output, OutputKind kind, const std::vector<std::string>& inputs) {
  FileId out;
  if (!identity(output, out)) return;  // nothing there yet: nothing to replace
  for (const std::string& input : inputs) {
    FileId in;
    if (input.empty() || !identity(input, in)) continue;
    if (kind == OutputKind::Folder) {
      if (folder_holds(out, input)) {
        throw InputError("-o " + output + (in == out ? " is the input " : " holds the input ") + input +
                         "; fsdpshard never replaces its input, write elsewhere");
      }
      continue;
    }
    std::vector<std::string> same = {input};
    struct stat st {};
    if (::stat(input.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) same = files_in(input);
    for (const std::string& file : same) {
      FileId id;
      if (identity(file, id) && id == out) {
        throw InputError("-o " + output + " is the input " + file + " (the same file); write elsewhere");
      }
    }
  }
}

}  // namespace fsdpshard
