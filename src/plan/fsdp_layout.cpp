#include "fsdpshard/plan/fsdp_layout.h"

#include <algorithm>
#include <map>

#include "fsdpshard/util/error.h"
#include "util/linear_regex.h"

namespace fsdpshard {

FsdpUnitRules FsdpUnitRules::audiocraft() {
  // audiocraft/optim/fsdp.py wraps StreamingTransformerLayer and ConditioningProvider.
  return FsdpUnitRules({R"(condition_provider\.)", R"(transformer\.layers\.[0-9]+\.)"});
}

FsdpUnitRules::FsdpUnitRules(const std::vector<std::string>& patterns) : texts_(patterns) {
  for (const std::string& p : patterns) regexes_.push_back(std::make_shared<const LinearRegex>(p, "--fsdp-units"));
}

std::string FsdpUnitRules::unit_of(const std::string& name) const {
  for (const auto& re : regexes_) {
    LinearRegex::Span m;
    if (re->match_prefix(name, m) && m.end > m.begin) {
      std::string unit = name.substr(m.begin, m.end - m.begin);
      if (!unit.empty() && unit.back() == '.') unit.pop_back();
      return unit;
    }
  }
  return "";
}

FlatPiece FlatUnit::piece(std::size_t k, int rank) const {
  const uint64_t lo = static_cast<uint64_t>(rank) * shard_numel;
  const uint64_t hi = lo + shard_numel;
  const uint64_t a = starts[k];
  const uint64_t b = a + numels[k];
  const uint64_t s = std::max(a, lo);
  const uint64_t e = std::min(b, hi);
  if (e <= s) return {};
  return {s - lo, s - a, e - s};
}

uint64_t fsdp_alignment(std::size_t element_size) {
  return element_size == 0 ? 1 : std::max<uint64_t>(1, 16 / element_size);
}

std::vector<FlatUnit> fsdp_layout(const std::vector<std::string>& names, const std::vector<uint64_t>& numels,
                                  const FsdpUnitRules& rules, int world, uint64_t alignment) {
  if (world < 1) throw InputError("FSDP world size must be at least 1");
  std::vector<FlatUnit> units;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string unit = rules.unit_of(names[i]);
    auto [it, fresh] = index.emplace(unit, units.size());
    if (fresh) {
      units.emplace_back();
      units.back().name = unit;
      units.back().world = world;
    }
    FlatUnit& u = units[it->second];
    u.params.push_back(i);
    u.numels.push_back(numels[i]);
  }
  for (FlatUnit& u : units) {
    // torch's FlatParamHandle: padding goes before a parameter whose start is not
    // aligned (never before the first), then the end is padded to a multiple of world.
    uint64_t pos = 0;
    for (uint64_t n : u.numels) {
      if (alignment > 1 && pos % alignment != 0) pos += alignment - pos % alignment;
      u.starts.push_back(pos);
      pos += n;
    }
    const uint64_t w = static_cast<uint64_t>(world);
    if (pos % w != 0) pos += w - pos % w;
    u.padded_numel = pos;
    u.shard_numel = pos / w;
  }
  return units;
}

}  // namespace fsdpshard
