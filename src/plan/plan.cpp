#include "fsdpshard/plan/plan.h"

#include <algorithm>
#include <numeric>

namespace fsdpshard {

void PlannedRecord::set_source(uint32_t input, uint64_t offset, uint64_t elements) {
  segments.clear();
  count = 0;
  add_segment(input, offset, elements);
}

void PlannedRecord::add_segment(uint32_t input, uint64_t offset, uint64_t elements) {
  if (elements == 0) return;  // nothing to read; keeps the reader's loop simple
  segments.push_back({input, offset, elements});
  count += elements;
}

void PlannedRecord::add_zeros(uint64_t elements) { add_segment(SourceSegment::kZeros, 0, elements); }

bool PlannedRecord::copies_unchanged() const {
  return segments.size() == 1 && segments[0].input != SourceSegment::kZeros && source_dtype == dtype;
}

uint64_t PlannedFile::bytes() const {
  uint64_t total = 0;
  for (const auto& r : records) total += r.bytes();
  return total;
}

uint64_t Plan::read_bytes(int rank) const {
  uint64_t total = 0;
  for (const auto& f : files) {
    for (const auto& r : f.records) {
      if (r.reader == rank) total += r.source_bytes();
    }
  }
  return total;
}

uint64_t Plan::total_bytes() const {
  uint64_t total = 0;
  for (const auto& f : files) total += f.bytes();
  return total;
}

void assign_readers(Plan& plan, int ranks) {
  std::vector<PlannedRecord*> records;
  for (auto& f : plan.files) {
    for (auto& r : f.records) records.push_back(&r);
  }
  // Stable sort keeps file order among equal sizes, so every rank gets the same answer.
  std::stable_sort(records.begin(), records.end(), [](const PlannedRecord* a, const PlannedRecord* b) {
    return a->source_bytes() > b->source_bytes();
  });
  std::vector<uint64_t> load(static_cast<std::size_t>(std::max(ranks, 1)), 0);
  for (PlannedRecord* r : records) {
    const auto least = std::min_element(load.begin(), load.end()) - load.begin();
    r->reader = static_cast<int>(least);
    load[static_cast<std::size_t>(least)] += r->source_bytes();
  }
}

}  // namespace fsdpshard
