// Moving host bytes between ranks with NCCL: NCCL only reads and writes device memory, so
// bytes are staged host -> pinned host buffer -> device buffer -> ncclSend, and the reverse
// on the receiving side, one chunk at a time. Two staging slots alternate, so the host
// copy of one chunk overlaps the device copy and network transfer of the previous one.
// Knows nothing of MPI, so it can be tested on one GPU without a launcher.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstddef>
#include <string>

namespace fsdpshard {

class NcclChannel {
 public:
  static constexpr std::size_t kDefaultChunkBytes = std::size_t{64} << 20;

  // Uses `comm` (not owned) on the current CUDA device; buffers are allocated at first use.
  // Both sides of a transfer must use the same chunk size.
  explicit NcclChannel(ncclComm_t comm, std::size_t chunk_bytes = kDefaultChunkBytes);
  ~NcclChannel();
  NcclChannel(const NcclChannel&) = delete;
  NcclChannel& operator=(const NcclChannel&) = delete;

  // Blocking; a send pairs with the recv of the same size that `peer` posts in the same
  // position of its sequence of transfers with this rank (NCCL has no tags).
  void send(const void* data, std::size_t size, int peer);
  void recv(void* data, std::size_t size, int peer);
  // Send and receive `size` bytes with `peer` in one NCCL group, so neither waits for the
  // other; `peer` may be this rank itself (used to test the staging on one GPU).
  void exchange(const void* send_data, void* recv_data, std::size_t size, int peer);

 private:
  struct Slot {
    void* host = nullptr;    // pinned, chunk_bytes_
    void* device = nullptr;  // chunk_bytes_
    cudaEvent_t done = nullptr;  // recorded after the last stream work that used this slot
  };

  void allocate();
  // Waits for `event`, polling NCCL's asynchronous error state so a broken communicator
  // ends in an error instead of a hang.
  void wait(cudaEvent_t event, const std::string& what);

  ncclComm_t comm_;
  std::size_t chunk_bytes_;
  cudaStream_t stream_ = nullptr;
  Slot slots_[2];
  bool allocated_ = false;
};

}  // namespace fsdpshard
