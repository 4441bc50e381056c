// Moves bytes by a Plan: each rank reads the records assigned to
// it, casts them, and either writes them (when it writes that file) or sends them in
// bounded chunks to the rank that does. Outputs appear all at once or not at all.
#pragma once

#include <cstdint>
#include <functional>

#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/plan/plan.h"

namespace fsdpshard {

struct ExecuteOptions {
  uint64_t max_inflight = 256ull << 20;  // bound on the bytes a rank holds in buffers
  bool overwrite = false;                // --force
  // Called on the writing rank after each chunk with (bytes written so far, total).
  std::function<void(uint64_t, uint64_t)> on_progress;
};

// What one rank moved. Bytes are tensor bytes (headers and pickles are not counted).
struct ExecuteStats {
  uint64_t bytes_read = 0;       // from inputs, in the input dtype; as Plan::read_bytes counts
                                 // them, so the zeros an FSDP re-layout pads with count too
  uint64_t bytes_sent = 0;       // to other ranks over the communicator, in the output dtype
  uint64_t bytes_received = 0;   // from other ranks over the communicator
  uint64_t bytes_written = 0;    // into the output files this rank writes
  uint64_t records_read = 0;     // records this rank read (each is read whole by one rank)
  uint64_t records_written = 0;  // records of the files this rank wrote
  uint64_t bytes_cast = 0;       // of bytes_read, those converted to another dtype
  uint64_t bytes_cast_on_device = 0;  // of bytes_cast, those the communicator cast on its
                                      // device (nccl; CastPlace::Device)
};

// Every rank calls this with the same plan. Throws on this rank's failure; the caller
// turns a failure on any rank into the end of all ranks (Communicator::abort).
ExecuteStats execute(const Plan& plan, Communicator& comm, const ExecuteOptions& options);

// What execute() on `rank` counts, from the plan alone (bytes_read is
// plan.read_bytes(rank)), without moving anything: `--dry-run --json`, and the figures tests
// hold a run to. bytes_cast_on_device stays 0: where a cast runs is the communicator's
// choice while the bytes move.
ExecuteStats planned_stats(const Plan& plan, int rank);

}  // namespace fsdpshard
