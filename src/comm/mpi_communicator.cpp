#include "comm/mpi_communicator.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <vector>

#include "comm/backends.h"
#include "comm/mpi_environment.h"
#include "comm/peer_check.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

std::string describe(const char* op, std::size_t size, int peer, int tag) {
  return std::string("mpi ") + op + " of " + std::to_string(size) + " bytes " +
         (op[0] == 's' || op[0] == 'i' ? "to" : "from") + " rank " + std::to_string(peer) +
         " (tag " + std::to_string(tag) + ")";
}

// Calls `f(offset, length)` for each message a transfer of `size` bytes is cut into.
// A transfer of 0 bytes is still one (empty) message, so send and recv always pair up.
template <typename F>
void for_each_piece(std::size_t size, std::size_t max_piece, F f) {
  std::size_t offset = 0;
  do {
    const std::size_t length = size - offset < max_piece ? size - offset : max_piece;
    f(offset, static_cast<int>(length));
    offset += length;
  } while (offset < size);
}

class MpiPendingSend final : public PendingSend {
 public:
  MpiPendingSend(std::vector<MPI_Request> requests, std::string what)
      : requests_(std::move(requests)), what_(std::move(what)) {}

  ~MpiPendingSend() override {
    if (requests_.empty() || std::uncaught_exceptions() > 0) return;
    try {
      wait();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fsdpshard: %s\n", e.what());
    }
  }

  void wait() override {
    if (requests_.empty()) return;
    std::vector<MPI_Request> requests;
    requests.swap(requests_);  // wait at most once, even if it throws
    check_mpi(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE),
              what_);
  }

 private:
  std::vector<MPI_Request> requests_;
  std::string what_;
};

}  // namespace

MpiCommunicator::MpiCommunicator() {
  ensure_mpi_initialized();
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
  check_mpi(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  void* tag_ub = nullptr;
  int found = 0;
  if (MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tag_ub, &found) == MPI_SUCCESS && found) {
    tag_upper_bound_ = *static_cast<int*>(tag_ub);
  }
  // srun without PMI support starts N singletons that each believe they are the whole
  // job; they would all write the same output. Say so instead.
  const int expected = launcher_world_size();
  if (expected > 1 && size_ != expected) {
    throw RuntimeFailure("the launcher started " + std::to_string(expected) +
                         " processes but MPI sees " + std::to_string(size_) +
                         ": this MPI library cannot talk to that launcher (with srun, try "
                         "--mpi=pmix or --mpi=pmi2)");
  }
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiCommunicator::set_max_message_bytes(std::size_t bytes) {
  if (bytes == 0 || bytes > (std::size_t{1} << 30)) {
    throw std::invalid_argument("max message bytes must be in 1..1 GiB");
  }
  max_message_ = bytes;
}

void MpiCommunicator::check_tag(int peer, int tag, const char* what) const {
  check_peer(*this, peer, tag, what);
  if (tag > tag_upper_bound_) {
    throw std::logic_error("mpi " + std::string(what) + ": tag " + std::to_string(tag) +
                           " above MPI_TAG_UB " + std::to_string(tag_upper_bound_));
  }
}

void MpiCommunicator::send(const void* data, std::size_t size, int dest, int tag) {
  check_tag(dest, tag, "send");
  const auto* bytes = static_cast<const char*>(data);
  for_each_piece(size, max_message_, [&](std::size_t offset, int length) {
    check_mpi(MPI_Send(bytes + offset, length, MPI_BYTE, dest, tag, comm_),
              describe("send", size, dest, tag));
  });
}

void MpiCommunicator::recv(void* data, std::size_t size, int source, int tag) {
  check_tag(source, tag, "recv");
  auto* bytes = static_cast<char*>(data);
  for_each_piece(size, max_message_, [&](std::size_t offset, int length) {
    MPI_Status status;
    check_mpi(MPI_Recv(bytes + offset, length, MPI_BYTE, source, tag, comm_, &status),
              describe("recv", size, source, tag));
    int received = 0;
    check_mpi(MPI_Get_count(&status, MPI_BYTE, &received), "MPI_Get_count");
    // A shorter message means the two ranks disagree about this tensor's size.
    if (received != length) {
      throw RuntimeFailure(describe("recv", size, source, tag) + ": a message of " +
                           std::to_string(received) + " bytes arrived where " +
                           std::to_string(length) + " were expected at offset " +
                           std::to_string(offset));
    }
  });
}

std::unique_ptr<PendingSend> MpiCommunicator::isend(const void* data, std::size_t size, int dest,
                                                    int tag) {
  check_tag(dest, tag, "isend");
  const auto* bytes = static_cast<const char*>(data);
  std::vector<MPI_Request> requests;
  for_each_piece(size, max_message_, [&](std::size_t offset, int length) {
    MPI_Request request = MPI_REQUEST_NULL;
    const int code = MPI_Isend(bytes + offset, length, MPI_BYTE, dest, tag, comm_, &request);
    if (code != MPI_SUCCESS) {
      // Pieces already started still read `data`: finish them before reporting.
      if (!requests.empty()) {
        MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
      }
      check_mpi(code, describe("isend", size, dest, tag));
    }
    requests.push_back(request);
  });
  return std::make_unique<MpiPendingSend>(std::move(requests), describe("isend", size, dest, tag));
}

void MpiCommunicator::barrier() { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

void MpiCommunicator::broadcast(std::string& data, int root) {
  if (root < 0 || root >= size_) {
    throw std::logic_error("mpi broadcast: root " + std::to_string(root) + " outside the job");
  }
  unsigned long long length = data.size();
  check_mpi(MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG_LONG, root, comm_), "MPI_Bcast (size)");
  if (rank_ != root) data.resize(length);
  for_each_piece(length, max_message_, [&](std::size_t offset, int piece) {
    check_mpi(MPI_Bcast(data.data() + offset, piece, MPI_BYTE, root, comm_), "MPI_Bcast (bytes)");
  });
}

bool MpiCommunicator::all_ok(bool ok) {
  int mine = ok ? 1 : 0;
  int all = 0;
  check_mpi(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, comm_), "MPI_Allreduce (all_ok)");
  return all != 0;
}

unsigned long long MpiCommunicator::sum(unsigned long long value) {
  unsigned long long total = 0;
  check_mpi(MPI_Allreduce(&value, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm_),
            "MPI_Allreduce (sum)");
  return total;
}

void MpiCommunicator::abort(int exit_code) {
  // MPI_Abort kills processes without flushing their stdio buffers.
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(comm_, exit_code);
  std::_Exit(exit_code);  // MPI_Abort should not return; never continue if it does
}

std::unique_ptr<Communicator> make_mpi_communicator() {
  return std::make_unique<MpiCommunicator>();
}

}  // namespace fsdpshard
