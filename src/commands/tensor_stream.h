// Reads a tensor's elements in logical (C) order through a bounded buffer, whatever its
// strides: verify compares values, not layouts, so a transposed view in one file equals
// its compacted copy in another.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fsdpshard/dtype.h"

namespace fsdpshard {

// Where a tensor's elements are: a file, the byte offset of element 0 (storage offset
// included), and its sizes/strides in elements. Contiguous tensors (every safetensors
// tensor) have C strides.
struct TensorLocation {
  int fd = -1;
  std::string path;         // for error messages
  uint64_t offset = 0;      // absolute file offset of the element at index (0, 0, …)
  DType dtype = DType::UInt8;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  uint64_t numel() const;
};

class TensorStream {
 public:
  explicit TensorStream(const TensorLocation& where);
  // Copies the next `count` elements (count <= what is left) into `dst`.
  void read(char* dst, uint64_t count);
  uint64_t remaining() const { return remaining_; }

 private:
  void read_run(char* dst, uint64_t first, uint64_t count);  // along the innermost dim
  void advance_outer();

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
