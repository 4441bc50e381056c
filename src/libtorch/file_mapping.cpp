#include "libtorch/file_mapping.h"

#include <sys/mman.h>

#include <cerrno>

#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/read_only_file.h"

namespace fsdpshard::libtorch {

std::shared_ptr<const FileMapping> FileMapping::open(const std::string& path, bool writable) {
  const ReadOnlyFile file(path);  // the descriptor may close once mapped: the mapping stays valid
  std::shared_ptr<FileMapping> mapping(new FileMapping());
  mapping->path_ = path;
  mapping->size_ = file.size();
  if (file.size() == 0) return mapping;  // mmap refuses length 0; there is nothing to view
  const int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* base = ::mmap(nullptr, file.size(), protection, MAP_PRIVATE, file.fd(), 0);
  if (base == MAP_FAILED) throw_errno("mapping " + path);
  mapping->base_ = base;
  return mapping;
}

FileMapping::~FileMapping() {
  if (base_ != nullptr) ::munmap(base_, size_);
}

}  // namespace fsdpshard::libtorch
