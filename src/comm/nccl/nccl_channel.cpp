#include "comm/nccl/nccl_channel.h"

#include <cstring>
#include <thread>

#include "comm/nccl/cuda_check.h"

namespace fsdpshard {
namespace {

std::string mib(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

NcclChannel::NcclChannel(ncclComm_t comm, std::size_t chunk_bytes)
    : comm_(comm), chunk_bytes_(chunk_bytes) {}

NcclChannel::~NcclChannel() {
  // Errors are ignored: nothing useful can be done about them while tearing down.
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  for (Slot& slot : slots_) {
    if (slot.host != nullptr) cudaFreeHost(slot.host);
    if (slot.device != nullptr) cudaFree(slot.device);
    if (slot.done != nullptr) cudaEventDestroy(slot.done);
  }
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void NcclChannel::allocate() {
  if (allocated_) return;
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "nccl: cudaStreamCreate");
  for (Slot& slot : slots_) {
    check_cuda(cudaMallocHost(&slot.host, chunk_bytes_), "nccl: cudaMallocHost of " + mib(chunk_bytes_));
    check_cuda(cudaMalloc(&slot.device, chunk_bytes_), "nccl: cudaMalloc of " + mib(chunk_bytes_));
    check_cuda(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming), "nccl: cudaEventCreate");
  }
  allocated_ = true;
}

void NcclChannel::wait(cudaEvent_t event, const std::string& what) {
  for (;;) {
    const cudaError_t state = cudaEventQuery(event);
    if (state == cudaSuccess) return;
    if (state != cudaErrorNotReady) check_cuda(state, what);
    ncclResult_t async = ncclSuccess;
    check_nccl(ncclCommGetAsyncError(comm_, &async), what + ": ncclCommGetAsyncError");
    check_nccl(async, what);
    std::this_thread::yield();
  }
}

void NcclChannel::send(const void* data, std::size_t size, int peer) {
  if (size == 0) return;  // the receiver skips too: sizes are checked before (nccl_communicator)
  allocate();
  const std::string what = "nccl send of " + std::to_string(size) + " bytes to rank " + std::to_string(peer);
  const auto* bytes = static_cast<const char*>(data);
  std::size_t index = 0;
  for (std::size_t offset = 0; offset < size; offset += chunk_bytes_, ++index) {
    const std::size_t length = std::min(chunk_bytes_, size - offset);
    Slot& slot = slots_[index % 2];
    wait(slot.done, what);  // the chunk that last used this slot has left
    std::memcpy(slot.host, bytes + offset, length);
    check_cuda(cudaMemcpyAsync(slot.device, slot.host, length, cudaMemcpyHostToDevice, stream_), what);
    check_nccl(ncclSend(slot.device, length, ncclUint8, peer, comm_, stream_), what);
    check_cuda(cudaEventRecord(slot.done, stream_), what);
  }
  for (Slot& slot : slots_) wait(slot.done, what);
}

void NcclChannel::recv(void* data, std::size_t size, int peer) {
  if (size == 0) return;
  allocate();
  const std::string what = "nccl recv of " + std::to_string(size) + " bytes from rank " + std::to_string(peer);
  auto* bytes = static_cast<char*>(data);
  // Chunk k is queued on the stream, then chunk k-1 (already queued) is copied out of its
  // slot on the host while chunk k travels.
  std::size_t previous_offset = 0, previous_length = 0, index = 0;
  for (std::size_t offset = 0; offset < size; offset += chunk_bytes_, ++index) {
    const std::size_t length = std::min(chunk_bytes_, size - offset);
    Slot& slot = slots_[index % 2];
    check_nccl(ncclRecv(slot.device, length, ncclUint8, peer, comm_, stream_), what);
    check_cuda(cudaMemcpyAsync(slot.host, slot.device, length, cudaMemcpyDeviceToHost, stream_), what);
    check_cuda(cudaEventRecord(slot.done, stream_), what);
    if (index > 0) {
      Slot& previous = slots_[(index - 1) % 2];
      wait(previous.done, what);
      std::memcpy(bytes + previous_offset, previous.host, previous_length);
    }
    previous_offset = offset;
    previous_length = length;
  }
  Slot& last = slots_[(index - 1) % 2];
  wait(last.done, what);
  std::memcpy(bytes + previous_offset, last.host, previous_length);
}

void NcclChannel::exchange(const void* send_data, void* recv_data, std::size_t size, int peer) {
  if (size == 0) return;
  allocate();
  const std::string what = "nccl exchange of " + std::to_string(size) + " bytes with rank " + std::to_string(peer);
  const auto* in = static_cast<const char*>(send_data);
  auto* out = static_cast<char*>(recv_data);
  Slot& outgoing = slots_[0];
  Slot& incoming = slots_[1];
  for (std::size_t offset = 0; offset < size; offset += chunk_bytes_) {
    const std::size_t length = std::min(chunk_bytes_, size - offset);
    std::memcpy(outgoing.host, in + offset, length);
    check_cuda(cudaMemcpyAsync(outgoing.device, outgoing.host, length, cudaMemcpyHostToDevice, stream_), what);
    check_nccl(ncclGroupStart(), what);
    check_nccl(ncclSend(outgoing.device, length, ncclUint8, peer, comm_, stream_), what);
    check_nccl(ncclRecv(incoming.device, length, ncclUint8, peer, comm_, stream_), what);
    check_nccl(ncclGroupEnd(), what);
    check_cuda(cudaMemcpyAsync(incoming.host, incoming.device, length, cudaMemcpyDeviceToHost, stream_), what);
    check_cuda(cudaEventRecord(incoming.done, stream_), what);
    wait(incoming.done, what);
    std::memcpy(out + offset, incoming.host, length);
  }
}

}  // namespace fsdpshard
