// Uniform access to the references a node holds, so graph walks (depth checks, the
// pickler's bookkeeping) need no per-kind code and no recursion.
#pragma once

#include <cstddef>

#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard::graph_walk {

// Number of reference slots of `node`: items, then entries as key/value pairs, then
// callable, args, kwargs, state, pid. Unused slots hold kNoNode.
inline std::size_t slot_count(const Node& node) {
  return node.items.size() + 2 * node.entries.size() + 5;
}

inline NodeId slot(const Node& node, std::size_t i) {
  if (i < node.items.size()) return node.items[i];
  i -= node.items.size();
  if (i < 2 * node.entries.size()) {
    const auto& entry = node.entries[i / 2];
    return i % 2 == 0 ? entry.first : entry.second;
  }
  switch (i - 2 * node.entries.size()) {
    case 0: return node.callable;
    case 1: return node.args;
    case 2: return node.kwargs;
    case 3: return node.state;
    case 4: return node.pid;
    default: return kNoNode;
  }
}

// Longest chain of nested references a depth-first walk from `root` meets, counted in
// nodes (a leaf is 1, a list of ints 2), each node entered once so cycles end. Stops
// early and returns limit + 1 as soon as the chain exceeds `limit`.
std::size_t nesting_depth(const Graph& graph, NodeId root, std::size_t limit);

}  // namespace fsdpshard::graph_walk
