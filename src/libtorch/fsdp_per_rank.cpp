#include "libtorch/fsdp_per_rank.h"

#include <stdexcept>

#include "commands/fsdp_gather.h"

namespace fsdpshard::libtorch {

std::optional<PerRankState> open_per_rank_state(const std::string& path, const std::string& from,
                                                const SelectionOptions& selection) {
  if (!wants_fsdp_gather(path, from)) return std::nullopt;
  const FsdpGathered gathered = gather_fsdp_state(path, from, FsdpOptions{}, selection);
  PerRankState state;
  state.files = gathered.files.paths;
  state.source = gathered.sharded.path;
  state.cfg_yaml = gathered.files.ranks.at(0)->cfg_yaml();
  for (const OutputTensor& t : gathered.state.tensors) {
    if (t.storage_offset != 0 || !t.contiguous) throw std::logic_error("a gathered FSDP parameter is a view");
    const PlannedRecord& record = gathered.state.storages.at(t.storage);
    PieceTensor piece{t.name, record.source_dtype, record.dtype, t.sizes, record.source_bytes(), {}};
    const uint64_t element = element_size(record.source_dtype);
    uint64_t placement = 0;
    for (const SourceSegment& s : record.segments) {
      if (s.input == SourceSegment::kZeros) throw std::logic_error("a gathered FSDP parameter has padding");
      piece.segments.push_back({s.input, s.offset, s.count * element, placement});
      placement += s.count * element;
    }
    state.tensors.push_back(std::move(piece));
  }
  return state;
}

}  // namespace fsdpshard::libtorch
