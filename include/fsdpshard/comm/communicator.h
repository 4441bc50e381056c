// How ranks talk: one interface, three backends.
//   local: one process, size 1;  mpi: host buffers over MPI;
//   nccl:  bulk bytes staged through device buffers and moved with ncclSend/ncclRecv,
//          NCCL bootstrapped by broadcasting the ncclUniqueId over MPI; control
//          messages (broadcasts, agreement) still go over MPI; --dtype casts run on
//          the rank's GPU (cast()).
// The executor only ever calls this interface, so everything above it is tested with
// `local` and `mpi`; the NCCL backend stays thin.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "fsdpshard/util/dtype.h"

namespace fsdpshard {

// Where Communicator::cast converted the elements.
enum class CastPlace { Host, Device };

// A send started by Communicator::isend. The bytes it reads must stay valid and unchanged
// until wait() returns.
class PendingSend {
 public:
  virtual ~PendingSend() = default;
  // Blocks until the send buffer may be reused; throws RuntimeFailure if the send failed.
  // Calling it again does nothing. A handle dropped without wait() waits in its
  // destructor, except while an exception unwinds the stack (the job is then being
  // aborted, and waiting could hang on a peer that will never receive).
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "local", "mpi", "nccl"

  // Bulk data (tensor bytes). Blocking, point-to-point, any size; messages between one
  // pair of ranks with one tag arrive in the order sent. `data` is host memory for every
  // backend (NCCL stages it through device buffers). Portable code receives a pair's
  // messages in the order they were sent, whatever their tags: nccl matches by order alone
  // (a tag or size that disagrees is a RuntimeFailure there, and only abort() can follow).
  // A recv whose size differs from the matching send's is a RuntimeFailure. Sending to or
  // receiving from oneself, a rank outside the job or a negative tag: std::logic_error.
  virtual void send(const void* data, std::size_t size, int dest, int tag) = 0;
  virtual void recv(void* data, std::size_t size, int source, int tag) = 0;
  // Starts a send and returns at once where the backend can (mpi), so a reader can read
  // chunk k+1 while chunk k is in flight. Ordering is as for send(). A backend may finish
  // the send before returning (local, nccl: the default below), so code must also be
  // correct, and free of deadlock, when isend behaves like send. With mpi, wait() must be
  // called from the thread that calls the other methods (MPI_THREAD_FUNNELED).
  virtual std::unique_ptr<PendingSend> isend(const void* data, std::size_t size, int dest,
                                             int tag);

  // Element type conversion of tensor bytes on their way through this rank: the executor
  // calls it for every chunk of a record whose dtype changes, so a backend that owns an
  // accelerator does the arithmetic there without the executor knowing which backend runs.
  // `src` and `dst` are host memory and must not overlap. Every backend gives the bits
  // cast_elements (fsdpshard/plan/cast.h) gives: the default, used by local and mpi, is
  // cast_elements on this CPU; nccl converts on this rank's GPU the pairs of float32,
  // float16 and bfloat16 (its kernels share src/comm/cast_math.h with the CPU) and leaves
  // every other pair (float64 sources, complex, integers) to the default. Returns where the
  // conversion ran; InputError as cast_elements for a pair nothing converts.
  virtual CastPlace cast(const void* src, DType from, void* dst, DType to, std::size_t count);

  // Control: small messages.
  virtual void barrier() = 0;
  // `data` of rank `root` replaces `data` on every other rank.
  virtual void broadcast(std::string& data, int root) = 0;
  // Collective agreement: true on every rank iff `ok` was true on every rank.
  virtual bool all_ok(bool ok) = 0;
  // Sum of a value over all ranks (byte counters for the summary line).
  virtual unsigned long long sum(unsigned long long value) = 0;

  // Ends every rank of the job now with `exit_code` (MPI_Abort; mpirun then exits with
  // that code); never returns. stdout and stderr are flushed first; no destructors or
  // atexit handlers run, so remove temporary outputs before calling.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// The process-wide MPI environment: initialised on first use of an MPI-based backend,
// finalised at exit. True when this process was started by mpirun/srun (an MPI launcher
// set its environment variables), so `auto` can choose without initialising MPI.
bool launched_by_mpi();

// Creates the backend named `name` ("auto", "local", "mpi", "nccl"). `auto` picks nccl
// when it was built, the process runs under an MPI launcher and this node has a GPU for
// each of its ranks (as far as the launcher says), mpi when under an MPI launcher,
// otherwise local. InputError for an unknown name or a backend not built into this binary
// ("nccl" without CUDA). mpi and nccl are collective: every rank of the job calls this.
std::unique_ptr<Communicator> make_communicator(const std::string& name);

}  // namespace fsdpshard
