// Reads a tensor's elements in logical (C) order through a bounded buffer, whatever its
// strides: verify compares values, not layouts, so a transposed view in one file equals
// its compacted copy in another. The storage under the view may lie in several files
// (an FSDP parameter's pieces in its rank files): a run of storage bytes is read from
// every segment it spans.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fsdpshard/util/dtype.h"

namespace fsdpshard {

// One run of a storage's bytes in an open file.
struct StorageRun {
  int fd = -1;
  std::string path;        // for error messages
  uint64_t offset = 0;     // absolute file offset
  uint64_t length = 0;     // bytes
  uint64_t placement = 0;  // byte offset within the storage
};

// Where a tensor's elements are: its storage's runs (in placement order, covering the
// storage), the byte offset of element 0 within the storage (storage offset included),
// and its sizes/strides in elements. Contiguous tensors (every safetensors tensor) have
// C strides.
struct TensorLocation {
  std::vector<StorageRun> storage;
  uint64_t offset = 0;      // storage byte offset of the element at index (0, 0, …)
  DType dtype = DType::UInt8;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  uint64_t numel() const;
};

// Copies the storage bytes [first, first + length) of `where` into `dst`, from every run
// they span. InputError when they reach past the runs or a file is shorter than it says.
void read_storage_bytes(const TensorLocation& where, char* dst, uint64_t length, uint64_t first);

class TensorStream {
 public:
  explicit TensorStream(const TensorLocation& where);
  // Copies the next `count` elements (count <= what is left) into `dst`.
  void read(char* dst, uint64_t count);
  uint64_t remaining() const { return remaining_; }

 private:
  void read_run(char* dst, uint64_t first, uint64_t count);  // along the innermost dim
  void advance_outer();
  void read_bytes(char* dst, uint64_t length, uint64_t first_element);  // from element offset

  const TensorLocation& where_;
  std::size_t elem_;
  uint64_t remaining_;
  bool contiguous_;
  uint64_t contiguous_done_ = 0;          // elements read so far (contiguous case)
  std::vector<int64_t> outer_index_;      // odometer over every dim but the last
  uint64_t run_pos_ = 0;                  // position within the innermost dim
  std::vector<char> window_;              // scratch for strided runs
};

}  // namespace fsdpshard
