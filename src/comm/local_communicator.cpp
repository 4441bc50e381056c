// The `local` backend: one process, no MPI. Every collective is the identity, and there
// is no other rank to send to.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "comm/backends.h"
#include "comm/peer_check.h"

namespace fsdpshard {
namespace {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }

  // check_peer throws for every peer of a size-1 job (0 is oneself).
  void send(const void*, std::size_t, int dest, int tag) override {
    check_peer(*this, dest, tag, "send");
  }
  void recv(void*, std::size_t, int source, int tag) override {
    check_peer(*this, source, tag, "recv");
  }

  void barrier() override {}
  void broadcast(std::string&, int root) override { check_root(root); }
  bool all_ok(bool ok) override { return ok; }
  unsigned long long sum(unsigned long long value) override { return value; }

  // _Exit, not exit: like MPI_Abort, end now without running destructors or atexit
  // handlers that might finish half-written work. Flush first so messages are not lost.
  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(exit_code);
  }

 private:
  static void check_root(int root) {
    if (root != 0) throw std::logic_error("local broadcast: root " + std::to_string(root) + " in a job of 1 rank");
  }
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() {
  return std::make_unique<LocalCommunicator>();
}

}  // namespace fsdpshard
