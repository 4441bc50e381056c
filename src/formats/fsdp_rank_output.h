// One output rank file of `reshard --world M` being assembled: new storages (each one
// PlannedRecord) and the tensor nodes over them, in rank 0's object graph, with the pieces
// of the re-laid-out parameters read from the old rank files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fsdpshard/source/fsdp_ranks.h"
#include "fsdpshard/plan/fsdp_relayout.h"
#include "fsdpshard/plan/plan.h"

namespace fsdpshard {

struct RelayoutContext {
  const FsdpRankFiles& files;        // old rank files; Plan::inputs index = old rank
  Graph& g;                          // rank 0's graph: every output node lives there
  uint64_t first_key = 0;            // new storage keys start here (past rank 0's own)
  std::map<std::string, NodeId> strs;  // shared key strings, as Python interns them
  NodeId str(const std::string& text);
};

class RankOutput {
 public:
  RankOutput(RelayoutContext& ctx, int rank) : ctx_(ctx), rank_(rank), next_key_(ctx.first_key) {}
  int rank() const { return rank_; }
  RelayoutContext& context() const { return ctx_; }
  // A new storage holding `record`'s elements (its name is set here); returns the pid node.
  NodeId add_storage(PlannedRecord record);
  // A 1-D tensor of `count` elements at `offset` of storage `pid`.
  NodeId tensor(NodeId pid, DType dtype, uint64_t offset, uint64_t count);
  // Appends to `r` the elements [param_offset, param_offset + count) of a parameter whose
  // old pieces are `pieces` (one per old rank, as `unit` lays them out).
  void add_param_runs(PlannedRecord& r, const FlatUnit& old_unit, std::size_t k, const std::vector<TensorRef>& pieces,
                      uint64_t param_offset, uint64_t count) const;
  // The records, with copies of the rank 0 storages that `root` reaches but this file did
  // not make (fsdp_best_state on rank 0, any tensor passed through), sorted by key.
  std::vector<PlannedRecord> records_for(NodeId root) const;

 private:
  RelayoutContext& ctx_;
  int rank_;
  uint64_t next_key_;
  std::vector<PlannedRecord> records_;
  std::map<std::string, bool> new_keys_;
};

// Byte offset in old rank file `rank` of the first element of `t`.
uint64_t piece_offset(const FsdpRankFiles& files, int rank, const TensorRef& t);

// A copy of mapping `mapping` (same kind: dict, OrderedDict…) whose entry at the key path
// `keys` is `value` (an entry is appended where a key is missing). The input is untouched.
NodeId with_path(Graph& g, NodeId mapping, const std::vector<std::string>& keys, NodeId value);

// The optimizer's state dict for new rank `out.rank()`: `state` re-laid out like the
// parameters of `model` (index i = the i-th name of the model state dict), param_groups
// and the rest shared with rank 0's. kNoNode when rank 0's file has no optimizer.
NodeId relayout_optimizer(RankOutput& out, const ShardedState& model, const std::vector<FlatUnit>& new_units);

}  // namespace fsdpshard
