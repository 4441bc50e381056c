#include "verify/tensor_stream.h"

#include <algorithm>
#include <cstring>

#include "archive/fd_io.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

// A strided run is read through windows of at most this many bytes; big enough that a
// stride-2 run costs about two contiguous reads, small enough to stay bounded.
constexpr uint64_t kWindowBytes = 1u << 20;

bool c_contiguous(const TensorLocation& t) {
  int64_t expected = 1;
  for (std::size_t i = t.sizes.size(); i-- > 0;) {
    if (t.sizes[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.sizes[i];
  }
  return true;
}

}  // namespace

void read_storage_bytes(const TensorLocation& where, char* dst, uint64_t length, uint64_t first) {
  // The first run that ends after `first` (runs are in placement order).
  auto it = std::upper_bound(where.storage.begin(), where.storage.end(), first,
                             [](uint64_t pos, const StorageRun& r) { return pos < r.placement + r.length; });
  while (length > 0) {
    if (it == where.storage.end()) {
      const std::string path = where.storage.empty() ? std::string("<no file>") : where.storage.back().path;
      throw InputError(path + ": tensor data: byte " + std::to_string(first) + " lies past its storage");
    }
    const uint64_t from = first - it->placement;
    const uint64_t take = std::min(it->length - from, length);
    archive::pread_exact(it->fd, dst, take, it->offset + from, it->path, "tensor data");
    dst += take;
    first += take;
    length -= take;
    ++it;
  }
}

uint64_t TensorLocation::numel() const {
  uint64_t n = 1;
  for (int64_t s : sizes) n *= static_cast<uint64_t>(s);
  return n;
}

TensorStream::TensorStream(const TensorLocation& where)
    : where_(where), elem_(element_size(where.dtype)), remaining_(where.numel()),
      contiguous_(c_contiguous(where)) {
  if (!contiguous_) outer_index_.assign(where.sizes.size() - 1, 0);
}

void TensorStream::read(char* dst, uint64_t count) {
  count = std::min(count, remaining_);
  remaining_ -= count;
  if (contiguous_) {
    read_bytes(dst, count * elem_, contiguous_done_);
    contiguous_done_ += count;
    return;
  }
  // Not contiguous: sizes has at least one dim (a 0-dim tensor is contiguous).
  const auto inner = static_cast<uint64_t>(where_.sizes.back());
  while (count > 0) {
    const uint64_t n = std::min(count, inner - run_pos_);
    read_run(dst, run_pos_, n);
    dst += n * elem_;
    count -= n;
    run_pos_ += n;
    if (run_pos_ == inner) {
      run_pos_ = 0;
      advance_outer();
    }
  }
}

void TensorStream::read_bytes(char* dst, uint64_t length, uint64_t first_element) {
  read_storage_bytes(where_, dst, length, where_.offset + first_element * elem_);
}

void TensorStream::advance_outer() {
  for (std::size_t i = outer_index_.size(); i-- > 0;) {
    if (++outer_index_[i] < where_.sizes[i]) return;
    outer_index_[i] = 0;
  }
}

void TensorStream::read_run(char* dst, uint64_t first, uint64_t count) {
  uint64_t base = 0;  // element offset of the run's start
  for (std::size_t i = 0; i < outer_index_.size(); ++i) {
    base += static_cast<uint64_t>(outer_index_[i]) * static_cast<uint64_t>(where_.strides[i]);
  }
  const auto stride = static_cast<uint64_t>(where_.strides.back());
  base += first * stride;
  if (stride == 1) {
    read_bytes(dst, count * elem_, base);
    return;
  }
  if (stride == 0) {  // an expanded dim: one element repeated
    read_bytes(dst, elem_, base);
    for (uint64_t j = 1; j < count; ++j) std::memcpy(dst + j * elem_, dst, elem_);
    return;
  }
  // Elements j .. j+k-1 span ((k-1)·stride + 1) elements of the file.
  const uint64_t window_elems = std::max<uint64_t>(1, kWindowBytes / elem_);
  const uint64_t per_window = window_elems <= 1 ? 1 : (window_elems - 1) / stride + 1;
  window_.resize(std::min<uint64_t>(window_elems, (std::min(per_window, count) - 1) * stride + 1) * elem_);
  for (uint64_t j = 0; j < count;) {
    const uint64_t k = std::min(per_window, count - j);
    const uint64_t span = ((k - 1) * stride + 1) * elem_;
    read_bytes(window_.data(), span, base + j * stride);
    for (uint64_t e = 0; e < k; ++e) std::memcpy(dst + (j + e) * elem_, window_.data() + e * stride * elem_, elem_);
    j += k;
  }
}

}  // namespace fsdpshard
