// A progress bar on stderr for long transfers (bytes done/total, rate, ETA), drawn only
// where a person watches: stderr is a terminal (or --progress always), and not --quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fsdpshard {

class ProgressBar {
 public:
  // `mode` is "auto" (a bar when stderr is a terminal), "always" or "never".
  ProgressBar(const std::string& mode, bool quiet);
  void update(uint64_t done, uint64_t total);
  void finish();  // ends the bar's line, if one was drawn
  bool enabled() const { return enabled_; }

 private:
  bool enabled_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// Seconds since `start`.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace fsdpshard
