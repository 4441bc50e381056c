// The `nccl` backend: bulk bytes over NCCL (nccl_channel.h), casts on the GPU
// (device_caster.h), everything else over the mpi backend it is built on. Bootstrapped as nccl-tests does: rank 0 creates the
// ncclUniqueId, MPI broadcasts it, every rank joins with ncclCommInitRank.
#include <cstdint>
#include <cstring>
#include <memory>

#include "comm/mpi_communicator.h"
#include "comm/mpi_environment.h"
#include "comm/nccl/cast_kernels.h"
#include "comm/nccl/cuda_check.h"
#include "comm/nccl/device_caster.h"
#include "comm/nccl/nccl_backend.h"
#include "comm/nccl/nccl_channel.h"
#include "comm/peer_check.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

// Sent over MPI ahead of each NCCL transfer. NCCL matches transfers between two ranks by
// order alone; the header lets the receiver check that the next transfer really is the
// one it expects (same tag, same size) and fail clearly instead of mixing up tensors.
struct TransferHeader {
  std::uint64_t size;
  std::int64_t tag;
};
constexpr int kHeaderTag = 0;

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator() : mpi_(std::make_unique<MpiCommunicator>()) {
    select_device();
    join_nccl();
    channel_ = std::make_unique<NcclChannel>(comm_);
  }

  ~NcclCommunicator() override {
    channel_.reset();
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }

  int rank() const override { return mpi_->rank(); }
  int size() const override { return mpi_->size(); }
  std::string backend() const override { return "nccl"; }

  void send(const void* data, std::size_t size, int dest, int tag) override {
    check_peer(*this, dest, tag, "send");
    TransferHeader header{size, tag};
    check_mpi(MPI_Send(&header, sizeof header, MPI_BYTE, dest, kHeaderTag, mpi_->handle()),
              "nccl send: header to rank " + std::to_string(dest));
    channel_->send(data, size, dest);
  }

  void recv(void* data, std::size_t size, int source, int tag) override {
    check_peer(*this, source, tag, "recv");
    TransferHeader header{};
    check_mpi(MPI_Recv(&header, sizeof header, MPI_BYTE, source, kHeaderTag, mpi_->handle(),
                       MPI_STATUS_IGNORE),
              "nccl recv: header from rank " + std::to_string(source));
    if (header.size != size || header.tag != tag) {
      throw RuntimeFailure(
          "nccl recv from rank " + std::to_string(source) + ": expected tag " +
          std::to_string(tag) + " (" + std::to_string(size) + " bytes) but the next transfer is tag " +
          std::to_string(header.tag) + " (" + std::to_string(header.size) +
          " bytes); the nccl backend delivers transfers between two ranks in the order sent");
    }
    channel_->recv(data, size, source);
  }

  // The pairs the kernels have go to the GPU this rank was given; the rest (float64
  // sources, complex, integers) are cast by the CPU, as on the other backends.
  CastPlace cast(const void* src, DType from, void* dst, DType to, std::size_t count) override {
    if (from == to || !device_cast_supported(from, to)) return Communicator::cast(src, from, dst, to, count);
    caster_.cast(src, from, dst, to, count);
    return CastPlace::Device;
  }

  void barrier() override { mpi_->barrier(); }
  void broadcast(std::string& data, int root) override { mpi_->broadcast(data, root); }
  bool all_ok(bool ok) override { return mpi_->all_ok(ok); }
  unsigned long long sum(unsigned long long value) override { return mpi_->sum(value); }
  // No ncclCommAbort first: MPI_Abort ends the processes, and the driver reclaims the GPU.
  [[noreturn]] void abort(int exit_code) override { mpi_->abort(exit_code); }

 private:
  // One GPU per rank of a node. Every rank learns whether all ranks got one, so that no rank
  // goes on into ncclCommInitRank (which would wait forever) when another has failed.
  void select_device() {
    MPI_Comm node = MPI_COMM_NULL;
    check_mpi(MPI_Comm_split_type(mpi_->handle(), MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node),
              "MPI_Comm_split_type");
    int node_rank = 0, node_size = 1;
    MPI_Comm_rank(node, &node_rank);
    MPI_Comm_size(node, &node_size);
    MPI_Comm_free(&node);
    const int env_rank = launcher_local_rank();
    const int local_rank = env_rank >= 0 ? env_rank : node_rank;

    const int devices = cuda_device_count();
    std::string problem;
    if (devices == 0) {
      problem = "no CUDA device is visible";
    } else if (node_size > devices || local_rank >= devices) {
      problem = std::to_string(node_size) + " ranks share this node but it has " +
                std::to_string(devices) +
                " GPU(s); NCCL needs one GPU per rank (start fewer ranks per node, or use "
                "--backend mpi)";
    } else {
      const cudaError_t code = cudaSetDevice(local_rank);
      if (code != cudaSuccess) {
        problem = "cudaSetDevice(" + std::to_string(local_rank) + "): " + cudaGetErrorString(code);
      }
    }
    const bool everyone = mpi_->all_ok(problem.empty());
    if (!problem.empty()) throw RuntimeFailure("nccl backend, rank " + std::to_string(rank()) + ": " + problem);
    if (!everyone) throw RuntimeFailure("nccl backend: another rank could not get a GPU (its message says why)");
  }

  void join_nccl() {
    struct {
      int ok;
      ncclUniqueId id;
    } start{};
    std::string problem;
    if (rank() == 0) {
      const ncclResult_t code = ncclGetUniqueId(&start.id);
      start.ok = code == ncclSuccess;
      if (!start.ok) problem = std::string("ncclGetUniqueId: ") + ncclGetErrorString(code);
    }
    check_mpi(MPI_Bcast(&start, sizeof start, MPI_BYTE, 0, mpi_->handle()), "MPI_Bcast (ncclUniqueId)");
    if (!start.ok) {
      throw RuntimeFailure("nccl backend: " + (problem.empty() ? "rank 0 could not create the NCCL id" : problem));
    }
    // If this fails on one rank, the others may wait inside NCCL; the caller reports the
    // error and calls abort(), which ends them.
    check_nccl(ncclCommInitRank(&comm_, size(), start.id, rank()),
               "ncclCommInitRank (rank " + std::to_string(rank()) + " of " + std::to_string(size()) + ")");
  }

  std::unique_ptr<MpiCommunicator> mpi_;
  ncclComm_t comm_ = nullptr;
  std::unique_ptr<NcclChannel> channel_;
  DeviceCaster caster_;  // on the device select_device chose
};

}  // namespace

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error for later calls
    return 0;
  }
  return count;
}

bool nccl_can_run_here() {
  const int devices = cuda_device_count();
  const int node_ranks = launcher_local_size();
  return devices > 0 && (node_ranks == 0 || node_ranks <= devices);
}

std::unique_ptr<Communicator> make_nccl_communicator() {
  return std::make_unique<NcclCommunicator>();
}

}  // namespace fsdpshard
