// A whole input file mapped into memory, shared by every tensor that views it: each
// tensor's storage holds a std::shared_ptr to it, so the mapping is unmapped when the last
// tensor (or the loader) lets go of it, never while a tensor can still read it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace fsdpshard::libtorch {

class FileMapping {
 public:
  // Maps `path` (a regular file, opened as ReadOnlyFile does: InputError for a FIFO, a
  // folder, a missing file). The file is opened read-only and mapped MAP_PRIVATE, so the
  // file itself can never be written through the mapping. `writable`: pages may be
  // written (copy-on-write, private to this process: in-place ops on a loaded tensor work
  // and the file stays unchanged); otherwise a write to a view faults, as torch's
  // read-only mappings do.
  static std::shared_ptr<const FileMapping> open(const std::string& path, bool writable);
  ~FileMapping();
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;

  const std::string& path() const { return path_; }
  const char* data() const { return static_cast<const char*>(base_); }
  uint64_t size() const { return size_; }
  // Whether the file's bytes [offset, offset + length) lie inside the mapping.
  bool contains(uint64_t offset, uint64_t length) const { return offset <= size_ && length <= size_ - offset; }

 private:
  FileMapping() = default;
  std::string path_;
  void* base_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace fsdpshard::libtorch
