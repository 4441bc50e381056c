// Tied (shared) weights on the way to safetensors, which has no sharing: one name per
// shared storage is kept and the others are dropped and recorded, as huggingface_hub's
// save_torch_state_dict does (_remove_duplicate_names + _clean_state_dict_for_safetensors):
// the metadata gets {dropped name: kept name}. Reading a safetensors file or shard set,
// those entries bring the dropped names back as views of the kept tensor's storage.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/plan/selection.h"

namespace fsdpshard {

struct TiedNames {
  std::vector<Selected> kept;                              // the selection less the dropped names, in order
  std::vector<std::pair<std::string, std::string>> dropped;  // (dropped, kept) in huggingface_hub's order
};

// Tensors of one storage whose byte ranges overlap form a group; in each group of two or
// more the first name (in code point order) among those covering the whole storage is
// kept, the others are dropped. A group where no tensor covers its storage is an
// InputError naming `path` (huggingface_hub refuses it too), and so is one holding a view
// that is not the kept tensor itself (another shape, offset or dtype): the metadata can
// only bring it back as the kept tensor. Names are output names.
TiedNames drop_tied_names(const StateDict& source, const std::vector<Selected>& selected, const std::string& path);

// Appends {dropped: kept} to `metadata` for each dropped name it does not already hold
// (user entries win, as in huggingface_hub).
void record_dropped_names(std::vector<std::pair<std::string, std::string>>& metadata, const TiedNames& tied);

// Whether a metadata key can be a {dropped: kept} record: not one of the entries the
// formats themselves own ("format", "total_size", gather's "xp.cfg").
bool is_tied_name_record(const std::string& key);

// "; 2 tied names dropped (kept one per shared storage; listed in the metadata)" or "".
std::string dropped_names_summary(const TiedNames& tied);

}  // namespace fsdpshard
