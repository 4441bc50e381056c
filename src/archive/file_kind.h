// What a path is when it is not the regular file a command wants, in the words every
// message uses ("-o OUT is a FIFO (named pipe); ...", "IN: is a folder, not a regular
// file"): one place, so that inputs and outputs describe the same node alike.
#pragma once

#include <sys/types.h>

namespace fsdpshard::archive {

// "a character device", "a block device", "a FIFO (named pipe)", "a socket", "a folder",
// "a symbolic link" (an lstat mode), "a file", else "an unknown kind of file".
const char* file_kind(mode_t mode);

}  // namespace fsdpshard::archive
