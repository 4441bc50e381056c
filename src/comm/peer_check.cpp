#include "comm/peer_check.h"

#include <stdexcept>
#include <string>

#include "fsdpshard/comm/communicator.h"

namespace fsdpshard {

void check_peer(const Communicator& comm, int peer, int tag, const char* what) {
  const std::string op = std::string(comm.backend()) + " " + what;
  if (peer < 0 || peer >= comm.size()) {
    throw std::logic_error(op + ": rank " + std::to_string(peer) + " is outside 0.." +
                           std::to_string(comm.size() - 1));
  }
  // Blocking send/recv to oneself deadlocks under MPI and NCCL; the executor copies
  // locally instead, so reaching this is a bug.
  if (peer == comm.rank()) {
    throw std::logic_error(op + ": rank " + std::to_string(peer) + " talking to itself");
  }
  if (tag < 0) throw std::logic_error(op + ": negative tag " + std::to_string(tag));
}

}  // namespace fsdpshard
