// The optimizer part of `reshard --world M`. A local optimizer's state_dict() on an FSDP
// rank is {'state': {i: {...}}, 'param_groups': [...]} where i is the position of the
// parameter among the module's parameters, i.e. the i-th name of the LOCAL state dict, and
// state exists only for parameters of which the rank holds elements. Per-element tensors
// (Adam's exp_avg, exp_avg_sq: 1-D, as long as the rank's piece) are re-laid out exactly
// like the parameter; 0-d tensors (step) are copied from a rank that held the parameter.
#include <map>

#include "torch_pickle/tensor_nodes.h"
#include "formats/fsdp_rank_output.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/torch_pickle/tensor_ref.h"

namespace fsdpshard {
namespace {

// Per old rank: parameter index -> its state mapping (in that rank's graph).
std::map<int64_t, NodeId> state_by_index(const Checkpoint& ckpt) {
  std::map<int64_t, NodeId> out;
  const Graph& g = ckpt.graph();
  const NodeId state = g.get_path(ckpt.root(), "optimizer.state");
  if (state == kNoNode || !g.is_mapping(state)) throw InputError(ckpt.path() + ": optimizer has no 'state' mapping");
  for (const auto& [key, value] : g.at(state).entries) {
    if (g.at(key).kind != NodeKind::Int || !g.is_mapping(value)) {
      throw InputError(ckpt.path() + ": optimizer.state is not {parameter index: {name: value}}");
    }
    out[g.at(key).int_value] = value;
  }
  return out;
}

// Parameters the param_groups name, all groups together.
std::size_t group_params(const Checkpoint& ckpt) {
  const Graph& g = ckpt.graph();
  const NodeId groups = g.get_path(ckpt.root(), "optimizer.param_groups");
  std::size_t n = 0;
  if (groups == kNoNode || g.at(groups).kind != NodeKind::List) return 0;
  for (NodeId group : g.at(groups).items) {
    const NodeId params = g.get(group, "params");
    if (params != kNoNode) n += g.at(params).items.size();
  }
  return n;
}

std::string text_of(const Graph& g, NodeId key) { return g.at(key).kind == NodeKind::Str ? g.at(key).text : "?"; }

}  // namespace

NodeId relayout_optimizer(RankOutput& out, const ShardedState& model, const std::vector<FlatUnit>& new_units) {
  const FsdpRankFiles& files = out.context().files;
  Graph& g = out.context().g;
  const Checkpoint& rank0 = *files.ranks[0];
  const NodeId optimizer = g.get(rank0.root(), "optimizer");
  if (optimizer == kNoNode) return kNoNode;
  if (group_params(rank0) != model.names.size()) {
    throw InputError(rank0.path() + ": optimizer.param_groups name " + std::to_string(group_params(rank0)) +
                     " parameters, model has " + std::to_string(model.names.size()) +
                     "; fsdpshard maps optimizer index i to the i-th model parameter");
  }
  std::vector<std::map<int64_t, NodeId>> states;
  for (const auto& ckpt : files.ranks) states.push_back(state_by_index(*ckpt));

  std::vector<std::pair<NodeId, NodeId>> entries;
  for (std::size_t i = 0; i < model.names.size(); ++i) {
    const FlatUnit& old_unit = model.units[model.unit_of[i]];
    const std::size_t k = model.position[i];
    const FlatPiece piece = new_units[model.unit_of[i]].piece(k, out.rank());
    // Old ranks holding elements of parameter i, and whether they hold state for it.
    int first = -1;
    int with_state = 0, holders = 0;
    for (int r = 0; r < files.world(); ++r) {
      if (model.piece(i, r).tensor.numel() == 0) continue;
      ++holders;
      if (states[static_cast<std::size_t>(r)].count(static_cast<int64_t>(i))) {
        ++with_state;
        if (first < 0) first = r;
      }
    }
    if (with_state == 0) continue;  // never stepped (no gradient): no state anywhere
    if (with_state != holders) {
      throw InputError("optimizer state of '" + model.names[i] + "' (index " + std::to_string(i) + ") is on " +
                       std::to_string(with_state) + " of the " + std::to_string(holders) + " ranks holding it");
    }
    if (piece.count == 0) continue;  // this new rank holds none of it: FSDP keeps no state

    const Graph& tg = files.ranks[static_cast<std::size_t>(first)]->graph();
    const NodeId templ = states[static_cast<std::size_t>(first)].at(static_cast<int64_t>(i));
    std::vector<std::pair<NodeId, NodeId>> fields;
    for (const auto& [key, value] : tg.at(templ).entries) {
      const std::string name = text_of(tg, key);
      const std::string where = files.paths[static_cast<std::size_t>(first)] + ": optimizer.state[" +
                                std::to_string(i) + "]['" + name + "'] ('" + model.names[i] + "')";
      const auto t = recognize_tensor(tg, value, where);
      if (!t) throw InputError(where + " is not a tensor; fsdpshard re-lays out tensor state only");
      PlannedRecord r;
      r.source_dtype = r.dtype = t->dtype;
      if (t->sizes.empty()) {  // a scalar (step): the same on every rank
        r.set_source(static_cast<uint32_t>(first), piece_offset(files, first, *t), 1);
        const NodeId pid = out.add_storage(std::move(r));
        fields.emplace_back(out.context().str(name), make_tensor_node(g, pid, t->dtype, 0, {}, {}));
        continue;
      }
      // Per element: every old rank's tensor must be as long as its piece.
      std::vector<TensorRef> pieces(static_cast<std::size_t>(files.world()));
      for (int rr = 0; rr < files.world(); ++rr) {
        const uint64_t want = model.piece(i, rr).tensor.numel();
        if (want == 0) continue;
        const Graph& rg = files.ranks[static_cast<std::size_t>(rr)]->graph();
        const NodeId v = rg.get(states[static_cast<std::size_t>(rr)].at(static_cast<int64_t>(i)), name);
        const std::string rwhere = files.paths[static_cast<std::size_t>(rr)] + ": optimizer.state[" +
                                   std::to_string(i) + "]['" + name + "'] ('" + model.names[i] + "')";
        const auto rt = v == kNoNode ? std::nullopt : recognize_tensor(rg, v, rwhere);
        if (!rt || rt->sizes.size() != 1 || rt->numel() != want || rt->dtype != t->dtype || !rt->contiguous()) {
          throw InputError(rwhere + " is not a 1-D " + std::string(torch_name(t->dtype)) + " tensor of " +
                           std::to_string(want) + " elements like the rank's piece of the parameter");
        }
        pieces[static_cast<std::size_t>(rr)] = *rt;
      }
      out.add_param_runs(r, old_unit, k, pieces, piece.param_offset, piece.count);
      const NodeId pid = out.add_storage(std::move(r));
      fields.emplace_back(out.context().str(name), out.tensor(pid, t->dtype, 0, piece.count));
    }
    entries.emplace_back(g.integer(static_cast<int64_t>(i)), g.dict(std::move(fields)));
  }
  return with_path(g, optimizer, {"state"}, g.dict(std::move(entries)));
}

}  // namespace fsdpshard
