// Where things sit in an object graph, as a person would index into the loaded object:
// `history[3]['x']`, `best_state['model']['w'].args[5]`. One walk from the root visits
// every reachable node once (depth first, in the order the pickler writes them, no
// recursion) and remembers the first place each node was reached from; a path is then
// rendered only for the few nodes a message or a listing names.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard {

class GraphPaths {
 public:
  GraphPaths(const Graph& graph, NodeId root);

  // Every node reachable from the root, each once, in depth-first pickle order.
  const std::vector<NodeId>& reached() const { return order_; }
  // Where `id` (a reached node) sits: "history[3]['x']"; "<root>" for the root itself.
  std::string path(NodeId id) const;
  // Where the reference in `slot` of `holder` (graph_walk numbering) points: the holder's
  // path plus that slot ("…['x']", "….args[5]"); a callable slot names the call itself.
  std::string path(NodeId holder, std::size_t slot) const;

 private:
  std::string label(NodeId holder, std::size_t slot, bool top_level) const;
  const Graph& g_;
  NodeId root_;
  std::vector<NodeId> order_;
  std::vector<NodeId> parent_;        // per node: the node it was first reached from
  std::vector<uint32_t> parent_slot_; // per node: the slot of parent_ that holds it
};

}  // namespace fsdpshard
