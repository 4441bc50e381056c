// How much a config may grow while it is read into CfgValues. YAML aliases and pickle
// memo references share one node many times over, and a reader that copies each use
// expands "billion laughs" (ten aliases of ten aliases of ... ) exponentially: a 1 KB
// text would take all the memory (issue 11). Every value made and every byte of text
// copied is charged here, so such a text is refused (InputError, exit 2) after a bounded
// amount of work, far beyond what any real xp.cfg needs.
#pragma once

#include <cstddef>
#include <string>

namespace fsdpshard::config {

// Values (scalars, mappings, lists, keys included) one config may expand to; AudioCraft's
// largest configs hold a few thousand.
inline constexpr std::size_t kMaxCfgValues = 250'000;
// Bytes of scalar text one config may expand to.
inline constexpr std::size_t kMaxCfgTextBytes = 64u << 20;

class ExpansionBudget {
 public:
  explicit ExpansionBudget(std::string what) : what_(std::move(what)) {}

  // Charges one value holding `text_bytes` of text; InputError "<what>: ..." when the
  // total passes a bound.
  void charge(std::size_t text_bytes);
  // Charges `text_bytes` more of text to a value charged already.
  void charge_text(std::size_t text_bytes);

 private:
  std::string what_;
  std::size_t values_ = 0;
  std::size_t text_bytes_ = 0;
};

}  // namespace fsdpshard::config
