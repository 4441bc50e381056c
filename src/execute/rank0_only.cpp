#include "execute/rank0_only.h"

#include <string>

#include "comm/mpi_environment.h"
#include "execute/run_plan.h"
#include "fsdpshard/comm/communicator.h"

namespace fsdpshard {

bool is_launched_non_zero_rank() { return launcher_rank() > 0; }

int run_on_rank0(const std::function<int()>& command) {
  const auto run_here = [&] {
    try {
      return command();
    } catch (...) {
      return report_current_exception();
    }
  };
  if (!launched_by_mpi()) return run_here();
  auto comm = make_communicator("mpi");
  std::string code = comm->rank() == 0 ? std::to_string(run_here()) : std::string();
  comm->broadcast(code, 0);
  return std::stoi(code);
}

}  // namespace fsdpshard
