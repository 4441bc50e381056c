// Moves bytes by a Plan: each rank reads the records assigned to
// it, casts them, and either writes them (when it writes that file) or sends them in
// bounded chunks to the rank that does. Outputs appear all at once or not at all.
#pragma once

#include <cstdint>
#include <functional>

#include "fsdpshard/communicator.h"
#include "fsdpshard/plan.h"

namespace fsdpshard {

struct ExecuteOptions {
  uint64_t max_inflight = 256ull << 20;  // bound on the bytes a rank holds in buffers
  bool overwrite = false;                // --force
  // Called on the writing rank after each chunk with (bytes written so far, total).
  std::function<void(uint64_t, uint64_t)> on_progress;
};

struct ExecuteStats {
  uint64_t bytes_read = 0;     // by this rank, from inputs
  uint64_t bytes_written = 0;  // by this rank, tensor bytes into outputs
  uint64_t bytes_sent = 0;     // by this rank, to other ranks
};

// Every rank calls this with the same plan. Throws on this rank's failure; the caller
// turns a failure on any rank into the end of all ranks (Communicator::abort).
ExecuteStats execute(const Plan& plan, Communicator& comm, const ExecuteOptions& options);

}  // namespace fsdpshard
