// The `mpi` backend: host buffers over MPI point-to-point and collectives, on a private
// duplicate of MPI_COMM_WORLD whose errors come back as codes (-> RuntimeFailure) instead
// of killing the job from inside MPI.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <memory>
#include <string>

#include "fsdpshard/comm/communicator.h"

namespace fsdpshard {

class MpiCommunicator final : public Communicator {
 public:
  // Initialises MPI if needed (collective over MPI_COMM_WORLD: every rank constructs one).
  MpiCommunicator();
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  void send(const void* data, std::size_t size, int dest, int tag) override;
  void recv(void* data, std::size_t size, int source, int tag) override;
  std::unique_ptr<PendingSend> isend(const void* data, std::size_t size, int dest,
                                     int tag) override;

  void barrier() override;
  void broadcast(std::string& data, int root) override;
  bool all_ok(bool ok) override;
  unsigned long long sum(unsigned long long value) override;
  [[noreturn]] void abort(int exit_code) override;

  // The duplicated communicator, for backends layered on this one (the NCCL bootstrap).
  MPI_Comm handle() const { return comm_; }

  // MPI counts are ints, so a send is cut into messages of at most this many bytes
  // (default 1 GiB; the receiver cuts the same way). Tests lower it to exercise the
  // cutting without gigabyte buffers. Every rank must use the same value.
  void set_max_message_bytes(std::size_t bytes);
  std::size_t max_message_bytes() const { return max_message_; }

 private:
  void check_tag(int peer, int tag, const char* what) const;

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int tag_upper_bound_ = 32767;  // the least MPI guarantees; replaced by MPI_TAG_UB
  std::size_t max_message_ = std::size_t{1} << 30;
};

}  // namespace fsdpshard
