#include "execute/test_hooks.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace fsdpshard {

void pause_after_plan_for_tests(int rank) {
  const char* dir = std::getenv("FSDPSHARD_TEST_PAUSE_AFTER_PLAN");
  if (!dir || !*dir) return;
  const std::string base = std::string(dir) + "/";
  const std::string planned = base + "planned." + std::to_string(rank);
  // Written under a temporary name and renamed, so a test never reads half a pid.
  if (FILE* f = std::fopen((planned + ".tmp").c_str(), "w")) {
    std::fprintf(f, "%ld\n", static_cast<long>(::getpid()));
    std::fclose(f);
    std::rename((planned + ".tmp").c_str(), planned.c_str());
  }
  const std::string go = base + "go", go_mine = base + "go." + std::to_string(rank);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (::access(go.c_str(), F_OK) != 0 && ::access(go_mine.c_str(), F_OK) != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace fsdpshard
