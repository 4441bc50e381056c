#include "fsdpshard/torch_pickle/global_scan.h"

#include <map>
#include <optional>

#include "fsdpshard/util/error.h"
#include "fsdpshard/torch_pickle/tensor_ref.h"
#include "pickle/graph_paths.h"
#include "pickle/graph_walk.h"

namespace fsdpshard {

std::vector<GlobalSite> scan_globals(const Graph& graph, NodeId root, std::size_t max_paths, bool whole_graph) {
  const GraphPaths paths(graph, root);
  std::map<std::string, GlobalSite> sites;  // sorted by name, as Python sorts the strings
  auto note = [&](NodeId global, const std::string& where) {
    const Node& n = graph.at(global);
    GlobalSite& site = sites[n.text + "." + n.name];
    if (site.uses++ == 0) {
      site.name = n.text + "." + n.name;
      site.verdict = global_verdict(n.text, n.name);
    }
    if (site.paths.size() < max_paths) site.paths.push_back(where);
  };
  if (root != kNoNode && root < graph.size() && graph.at(root).kind == NodeKind::Global) note(root, "<root>");
  for (const NodeId id : paths.reached()) {
    const Node& node = graph.at(id);
    const std::size_t slots = graph_walk::slot_count(node);
    for (std::size_t i = 0; i < slots; ++i) {
      const NodeId child = graph_walk::slot(node, i);
      if (child != kNoNode && child < graph.size() && graph.at(child).kind == NodeKind::Global) {
        note(child, paths.path(id, i));
      }
    }
  }
  if (whole_graph) {
    for (NodeId id = 0; id < graph.size(); ++id) {
      const Node& n = graph.at(id);
      if (n.kind == NodeKind::Global && !sites.count(n.text + "." + n.name)) note(id, kDroppedPath);
    }
  }
  std::vector<GlobalSite> out;
  for (auto& [name, site] : sites) out.push_back(std::move(site));
  return out;
}

std::vector<IrregularTensor> scan_irregular_tensors(const Graph& graph, NodeId root) {
  const GraphPaths paths(graph, root);
  std::vector<IrregularTensor> out;
  std::vector<bool> inside_parameter(graph.size(), false);  // reported with their parameter
  for (const NodeId id : paths.reached()) {
    if (graph.at(id).kind != NodeKind::Object || inside_parameter[id]) continue;
    std::optional<TensorRef> t;
    try {
      t = recognize_tensor(graph, id, "tensor");
    } catch (const InputError&) {
      continue;  // malformed tensors are refused when the file is opened
    }
    if (!t) continue;
    if (t->parameter) inside_parameter[t->tensor_node] = true;
    if (!t->irregular.empty()) out.push_back({paths.path(id), t->irregular});
  }
  return out;
}

}  // namespace fsdpshard
