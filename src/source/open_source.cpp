#include "fsdpshard/source/open_source.h"

#include "fsdpshard/source/fsdp_ranks.h"
#include "fsdpshard/source/recognize_input.h"
#include "source/fsdp_set.h"

namespace fsdpshard {

bool is_per_rank_state(const std::string& from) {
  return !(from == "auto" || from == "whole" || from == "." || from.rfind("fsdp_best_state", 0) == 0);
}

std::unique_ptr<Checkpoint> open_source(const std::string& path, const SourceOptions& options) {
  if (is_per_rank_state(options.from) && recognize_input(path).kind == InputKind::FsdpSet) {
    // The per-rank pieces are only a set when rank 0's file is an FSDP one; a plain
    // training checkpoint named checkpoint.th is read as itself.
    auto rank0 = std::make_unique<Checkpoint>(path);
    const Layout layout = rank0->layout();
    if (layout == Layout::FsdpRank0 || layout == Layout::FsdpRankShard) {
      rank0.reset();
      return FsdpSetAssembly::open(path, options.from, {options.shapes_from, options.fsdp_units});
    }
    return rank0;
  }
  return std::make_unique<Checkpoint>(path);
}

}  // namespace fsdpshard
