// The mpi backend under mpirun with 1..4 ranks (registered in tests/CMakeLists.txt).
//   comm_mpi_check              the shared suite (comm_suite.h)
//   comm_mpi_check --big        2.1 GiB from rank 0 to rank 1: real messages past INT_MAX
//   comm_mpi_check --abort DIR  each rank writes DIR/rank<r>.pid, then rank 1 (rank 0 when
//                               alone) calls abort(3) while the others wait in a barrier;
//                               expect_abort.cmake checks mpirun's exit code and the pids.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <vector>

#include "comm/mpi_communicator.h"
#ifdef FSDPSHARD_HAVE_NCCL
#include "comm/nccl/nccl_backend.h"
#endif
#include "mpi/comm_suite.h"

namespace fsdpshard::check {
namespace {

void big_transfer(Communicator& comm, Report& report) {
  if (comm.size() != 2) {
    report.note("--big needs exactly 2 ranks; skipped");
    return;
  }
  const std::size_t size = (std::size_t{21} << 30) / 10;  // 2.1 GiB
  const std::size_t words = size / 8;
  const auto start = std::chrono::steady_clock::now();
  // new[] without (): no zeroing pass over 2.1 GiB.
  std::unique_ptr<std::uint64_t[]> owner(new std::uint64_t[words]);
  std::uint64_t* data = owner.get();
  if (comm.rank() == 0) {
    for (std::size_t i = 0; i < words; ++i) data[i] = i * 0x9E3779B97F4A7C15ull;
    // isend: its pieces are separate requests; checks the cutting of asynchronous sends.
    comm.isend(data, size, 1, 9)->wait();
  } else {
    comm.recv(data, size, 0, 9);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < words; ++i) wrong += data[i] != i * 0x9E3779B97F4A7C15ull;
    report.expect(wrong == 0, std::to_string(wrong) + " of " + std::to_string(words) +
                                  " words of the 2.1 GiB transfer differ");
  }
  comm.barrier();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.note("2.1 GiB from rank 0 to rank 1 (3 messages of <= 1 GiB) in " +
              std::to_string(seconds) + " s");
}

// What `auto` and `nccl` do under mpirun on this machine.
void check_backend_choice(Report& report) {
  const std::string chosen = make_communicator("auto")->backend();
#ifdef FSDPSHARD_HAVE_NCCL
  report.expect(chosen == "mpi" || chosen == "nccl", "auto under mpirun chose " + chosen);
  if (cuda_device_count() == 0) {
    // Every rank must get the error (not only the first), or the others would hang.
    expect_throws<RuntimeFailure>(report, [] { make_communicator("nccl"); }, "no CUDA device",
                                  "nccl without a GPU");
    report.note("auto chose " + chosen + "; nccl without a GPU refused on every rank");
  }
#else
  report.expect(chosen == "mpi", "auto under mpirun chose " + chosen);
  expect_throws<InputError>(report, [] { make_communicator("nccl"); }, "built without NCCL",
                            "nccl not built");
  report.note("auto chose mpi; nccl is not built");
#endif
}

[[noreturn]] void abort_run(Communicator& comm, const std::string& folder) {
  std::ofstream(folder + "/rank" + std::to_string(comm.rank()) + ".pid") << getpid() << "\n";
  comm.barrier();
  const int aborter = comm.size() > 1 ? 1 : 0;
  if (comm.rank() == aborter) {
    std::ofstream(folder + "/abort.time") << std::time(nullptr) << "\n";
    std::printf("rank %d calls abort(3)\n", aborter);  // must survive: abort flushes
    comm.abort(3);
  }
  comm.barrier();  // never completes: the aborting rank does not join
  std::fprintf(stderr, "rank %d: barrier returned after an abort\n", comm.rank());
  std::_Exit(99);
}

}  // namespace
}  // namespace fsdpshard::check

int main(int argc, char** argv) {
  using namespace fsdpshard;
  using namespace fsdpshard::check;
  std::unique_ptr<Communicator> comm;
  Report report;
  try {
    comm = make_communicator("mpi");
    report.rank = comm->rank();
    if (argc == 3 && std::strcmp(argv[1], "--abort") == 0) abort_run(*comm, argv[2]);
    if (comm->rank() == 0) std::printf("comm_mpi_check: %d rank(s), backend %s\n", comm->size(), comm->backend().c_str());
    report.expect(comm->backend() == "mpi", "backend name");
    report.expect(launched_by_mpi(), "launched_by_mpi() under mpirun");
    if (argc == 2 && std::strcmp(argv[1], "--big") == 0) {
      big_transfer(*comm, report);
    } else {
      auto* mpi = dynamic_cast<MpiCommunicator*>(comm.get());
      SuiteOptions options;
      options.set_max_message = [mpi](std::size_t bytes) { mpi->set_max_message_bytes(bytes); };
      options.size_mismatch_recoverable = true;
      run_comm_suite(*comm, report, options);
      // isend cut into many messages, and the reader pattern with them.
      mpi->set_max_message_bytes(4096);
      pipelined(*comm, report, 100000, 5);
      mpi->set_max_message_bytes(std::size_t{1} << 30);
      report.note("isend cut into 4096-byte messages");
      // The cast hook is local work; rank 0 checks it for all (mpi casts on the CPU).
      if (comm->rank() == 0) check_casts_like_cpu(*comm, report, [](DType, DType) { return false; });
      check_executor_casts(*comm, report, [](DType, DType) { return false; });
      check_backend_choice(report);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[rank %d] ERROR: %s\n", report.rank, e.what());
    if (comm) comm->abort(1);
    return 1;
  }
  const bool all_passed = comm->all_ok(report.failures == 0);
  if (comm->rank() == 0) std::printf("comm_mpi_check: %s\n", all_passed ? "PASS" : "FAIL");
  return all_passed ? 0 : 1;
}
