// Process-wide list of the temporary files and folders this process is writing, kept in
// a fixed static array so that a signal handler can remove them without allocating or
// locking (mpirun ends surviving ranks with SIGTERM when one rank fails; no partial
// output may survive that).
#pragma once

#include <string>

namespace fsdpshard::archive {

// Registers `path` (made absolute) and returns its slot. RuntimeFailure when the table
// is full or the path too long. Folders are removed with their contents.
int register_temp_path(const std::string& path, bool is_directory);
// Forgets a slot (the path was renamed into place or already removed). -1 is ignored.
void unregister_temp_path(int slot) noexcept;
// Removes every registered path. Async-signal-safe; paths stay registered.
void remove_registered_temp_paths() noexcept;

}  // namespace fsdpshard::archive
