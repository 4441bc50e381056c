// Where fsdpshard may write (README "Safety"). Checked before any work, on every rank, so
// that an output that cannot work, or would destroy what fsdpshard did not write, is
// refused with exit 2 instead of failing after the work or deleting a user's files.
#pragma once

#include <string>
#include <vector>

namespace fsdpshard {

enum class OutputKind { File, Folder };

// InputError unless `output` can be written as a `kind`:
//  - its folder exists and is a folder, and the path names a file or folder in it (a file
//    output must not end with '/');
//  - an existing file output is a regular file, or a symbolic link to one (the link is
//    kept and its target replaced); devices, FIFOs, sockets, folders and dangling links
//    are refused even with --force, so the node is never replaced;
//  - an existing folder output is a real folder (not a link, not a mount point) that is
//    empty or a previous fsdpshard output (archive/previous_output.h) — nothing else is
//    ever replaced;
//  - without `force`, it does not exist.
void check_output_path(const std::string& output, OutputKind kind, bool force);

// InputError when writing `output` could replace or delete one of `inputs` (paths that do
// not exist are skipped): a file output that is one of them, or one of the files of an
// input folder, by identity (device and inode, so links, symbolic links and other
// spellings of the path count); a folder output that is an input or holds one at any depth.
void check_output_spares_inputs(const std::string& output, OutputKind kind, const std::vector<std::string>& inputs);

}  // namespace fsdpshard
