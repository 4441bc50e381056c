#include "pickle/graph_walk.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace fsdpshard::graph_walk {

std::size_t nesting_depth(const Graph& graph, NodeId root, std::size_t limit) {
  if (root == kNoNode) return 0;
  std::vector<bool> entered(graph.size(), false);
  std::vector<std::pair<NodeId, std::size_t>> path;  // node, next slot to look at
  std::size_t deepest = 0;
  entered[root] = true;
  path.emplace_back(root, 0);
  while (!path.empty()) {
    deepest = std::max(deepest, path.size());
    if (deepest > limit) return limit + 1;
    auto& [id, next] = path.back();
    const Node& node = graph.at(id);
    if (next == slot_count(node)) {
      path.pop_back();
      continue;
    }
    const NodeId child = slot(node, next++);
    if (child == kNoNode || entered[child]) continue;
    entered[child] = true;
    path.emplace_back(child, 0);
  }
  return deepest;
}

}  // namespace fsdpshard::graph_walk
