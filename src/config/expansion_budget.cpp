#include "config/expansion_budget.h"

#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

void ExpansionBudget::charge(std::size_t text_bytes) {
  if (++values_ > kMaxCfgValues) {
    throw InputError(what_ + ": the config expands to more than " + std::to_string(kMaxCfgValues) +
                     " values (aliases or shared references repeated over and over?); refusing it");
  }
  charge_text(text_bytes);
}

void ExpansionBudget::charge_text(std::size_t text_bytes) {
  text_bytes_ += text_bytes;
  if (text_bytes_ > kMaxCfgTextBytes) {
    throw InputError(what_ + ": the config expands to more than " + std::to_string(kMaxCfgTextBytes >> 20) +
                     " MiB of text (aliases or shared references repeated over and over?); refusing it");
  }
}

}  // namespace fsdpshard::config
