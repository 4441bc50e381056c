// A folder that appears complete or not at all (reshard writes N files into a new
// folder): files are written into "<parent>/.<name>.fsdpshard-tmp-<pid>-<random>/", and
// commit() fsyncs them and renames the folder onto the target. Destroyed without
// commit(), the temporary folder is removed with its contents; signals clean it too
// (install_cleanup_signal_handlers in atomic_file.h).
#pragma once

#include <string>
#include <string_view>

namespace fsdpshard {

class AtomicDirectory {
 public:
  // InputError when `target` exists and !overwrite (or exists and is not a folder, or is
  // not empty and not a previous fsdpshard output: archive/previous_output.h), or its
  // parent folder does not exist; RuntimeFailure when the temporary folder cannot be
  // created. With overwrite, commit() checks the old folder again, swaps the new one in
  // (keeping the old folder's mode and owner, and each replaced file's) and removes the
  // old output's files only.
  AtomicDirectory(std::string target, bool overwrite);
  ~AtomicDirectory();
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;

  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_; }
  // Where to write the file that will be `target/name`.
  std::string file(std::string_view name) const { return temp_ + "/" + std::string(name); }

  void commit();
  void abandon();  // removes the temporary folder now
  bool committed() const { return committed_; }

 private:
  void replace_existing();

  std::string target_;
  std::string temp_;
  bool overwrite_;
  bool committed_ = false;
  bool temp_exists_ = false;
  int registry_slot_ = -1;
};

}  // namespace fsdpshard
