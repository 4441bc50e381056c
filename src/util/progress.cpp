#include "util/progress.h"

#include <unistd.h>

#include <cstdio>

#include "util/format.h"

namespace fsdpshard {

ProgressBar::ProgressBar(const std::string& mode, bool quiet)
    : start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  enabled_ = !quiet && (mode == "always" || (mode == "auto" && ::isatty(STDERR_FILENO)));
}

void ProgressBar::update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redraw at most ten times a second, and always for the last byte.
  if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r[%s] %3.0f%% %s/%s %s/s ETA %s   ", bar.c_str(), fraction * 100.0,
               human_bytes(done).c_str(), human_bytes(total).c_str(),
               human_bytes(static_cast<uint64_t>(rate)).c_str(), human_seconds(eta).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace fsdpshard
