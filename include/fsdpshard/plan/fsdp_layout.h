// FSDP's flat-parameter layout (torch 2.x, use_orig_params=True; docs/FORMATS.md §6): which
// parameters form one FSDP unit, where each lies in the unit's flat parameter, and which
// run of it every rank holds. Pure arithmetic: it is what lets fsdpshard reassemble
// parameters from per-rank files and lay them out again for another world size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fsdpshard {

class LinearRegex;

// Unit membership (the auto-wrap policy): a parameter belongs to the unit named by the
// first pattern that matches a prefix of its name (the matched text without its trailing
// '.'), or to the root unit "" when none does.
class FsdpUnitRules {
 public:
  // AudioCraft's wrap policy: condition_provider and each transformer.layers.<i>.
  static FsdpUnitRules audiocraft();
  // Regexes (RE2 syntax, util/linear_regex.h), anchored at the start of the name.
  // InputError on a bad one.
  explicit FsdpUnitRules(const std::vector<std::string>& patterns);
  std::string unit_of(const std::string& name) const;
  const std::vector<std::string>& patterns() const { return texts_; }

 private:
  std::vector<std::string> texts_;
  std::vector<std::shared_ptr<const LinearRegex>> regexes_;
};

// A run of a parameter held by one rank.
struct FlatPiece {
  uint64_t shard_offset = 0;  // elements into the rank's shard of the flat parameter
  uint64_t param_offset = 0;  // elements into the parameter (flattened)
  uint64_t count = 0;         // may be 0: the rank holds none of it
};

struct FlatUnit {
  std::string name;                 // "" for the root
  std::vector<std::size_t> params;  // indices into the caller's parameter list, in order
  std::vector<uint64_t> numels;
  std::vector<uint64_t> starts;     // element offset of each parameter in the flat parameter
  uint64_t padded_numel = 0;        // a multiple of the world size
  uint64_t shard_numel = 0;         // padded_numel / world size
  int world = 1;

  // The piece of parameter `k` (position within this unit) that `rank` holds.
  FlatPiece piece(std::size_t k, int rank) const;
};

// Elements of alignment padding FSDP uses for a parameter dtype of `element_size` bytes:
// each parameter starts at a multiple of 16 bytes of the dtype FSDP computes in (the
// mixed-precision param_dtype when one is set, e.g. 8 elements for float16).
uint64_t fsdp_alignment(std::size_t element_size);

// Parameters in registration order (the state dict's order) with their element counts,
// grouped into units (in order of first appearance) and laid out for `world` ranks.
std::vector<FlatUnit> fsdp_layout(const std::vector<std::string>& names, const std::vector<uint64_t>& numels,
                                  const FsdpUnitRules& rules, int world, uint64_t alignment);

}  // namespace fsdpshard
