#include "fsdpshard/source/resolve_source.h"

#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

bool non_empty_mapping(const Graph& g, NodeId id) {
  return g.is_mapping(id) && !g.at(id).entries.empty();
}

}  // namespace

StateDict resolve_source(const Checkpoint& ckpt, const std::string& from) {
  if (from == "whole" || from == ".") return ckpt.state_dict_at("");
  if (from != "auto") return ckpt.state_dict_at(from);
  const Graph& g = ckpt.graph();
  const NodeId root = ckpt.root();
  switch (ckpt.layout()) {
    case Layout::FsdpRankShard:
      throw InputError(ckpt.path() +
                       ": this is a non-zero rank's FSDP file: its fsdp_best_state is empty and its "
                       "best_state holds only this rank's flat shard. Point at rank 0's checkpoint.th "
                       "(it holds the gathered fsdp_best_state), or name a state dict with --from");
    case Layout::StateDict:
      return ckpt.state_dict_at("");
    default:
      break;
  }
  if (non_empty_mapping(g, g.get_path(root, "fsdp_best_state.model"))) {
    return ckpt.state_dict_at("fsdp_best_state.model");
  }
  if (non_empty_mapping(g, g.get_path(root, "best_state.model"))) return ckpt.state_dict_at("best_state.model");
  if (ckpt.layout() == Layout::Exported) return ckpt.state_dict_at("best_state");
  throw InputError(ckpt.path() + ": no state dict found for --from auto (looked for fsdp_best_state.model, "
                   "best_state.model, an exported best_state, a plain state dict); name one with --from");
}

std::vector<Selected> select_state_dict(const StateDict& source, const SelectionOptions& selection) {
  std::vector<std::string> names;
  std::vector<DType> dtypes;
  for (const NamedTensor& t : source.tensors) {
    names.push_back(t.name);
    dtypes.push_back(t.tensor.dtype);
  }
  return select_tensors(names, dtypes, selection);
}

}  // namespace fsdpshard
