// A minimal pass/fail recorder for the programs under tests/mpi, which run under mpirun
// and so cannot use GoogleTest's single-process runner. Every rank records its own
// failures; the final verdict is agreed over the communicator.
#pragma once

#include <cstdio>
#include <string>

namespace fsdpshard::check {

struct Report {
  int rank = 0;
  int failures = 0;
  int checks = 0;

  void expect(bool ok, const std::string& what) {
    ++checks;
    if (ok) return;
    ++failures;
    std::fprintf(stderr, "[rank %d] FAIL: %s\n", rank, what.c_str());
    std::fflush(stderr);
  }
  void note(const std::string& what) const {
    if (rank == 0) std::printf("  %s\n", what.c_str());
    std::fflush(stdout);
  }
};

// Runs `f`; passes when it throws E and the message contains `needle`.
template <typename E, typename F>
void expect_throws(Report& report, F f, const std::string& needle, const std::string& what) {
  try {
    f();
    report.expect(false, what + ": no exception");
  } catch (const E& e) {
    report.expect(std::string(e.what()).find(needle) != std::string::npos,
                  what + ": message '" + e.what() + "' lacks '" + needle + "'");
  } catch (const std::exception& e) {
    report.expect(false, what + ": wrong exception type: " + e.what());
  }
}

}  // namespace fsdpshard::check
