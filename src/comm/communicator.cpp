// The parts of Communicator shared by every backend.
#include "fsdpshard/comm/communicator.h"

#include "fsdpshard/plan/cast.h"

namespace fsdpshard {
namespace {

// A send that had already finished when isend returned.
class FinishedSend final : public PendingSend {
 public:
  void wait() override {}
};

}  // namespace

// Backends without real asynchronous sends finish the send here; the contract in
// communicator.h asks callers to be correct under exactly this behaviour.
std::unique_ptr<PendingSend> Communicator::isend(const void* data, std::size_t size, int dest,
                                                 int tag) {
  send(data, size, dest, tag);
  return std::make_unique<FinishedSend>();
}

// The CPU conversion (src/plan/cast.cpp, torch-exact): local, mpi, and nccl's fallback.
CastPlace Communicator::cast(const void* src, DType from, void* dst, DType to, std::size_t count) {
  cast_elements(src, from, dst, to, count);
  return CastPlace::Host;
}

}  // namespace fsdpshard
