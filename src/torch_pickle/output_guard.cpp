#include "fsdpshard/torch_pickle/output_guard.h"

#include <algorithm>
#include <optional>

#include "torch_pickle/tensor_nodes.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/torch_pickle/global_scan.h"
#include "fsdpshard/pickle/pickler.h"
#include "fsdpshard/torch_pickle/tensor_ref.h"
#include "pickle/graph_paths.h"

namespace fsdpshard {
namespace {

constexpr std::size_t kListedInMessage = 5;

[[noreturn]] void refuse_tensor(const std::string& file, const IrregularTensor& t) {
  throw InputError(file + ": tensor " + t.path + ": " + t.problem +
                   "; torch.save never writes this, so the file was made to run code or to alter the tensor "
                   "when loaded; refusing to convert it (fsdpshard inspect --scan lists what it holds)");
}

// Rewrites, in place (same node ids, so sharing and identity stay), every tensor reachable
// from `root` from its parsed values.
void rewrite_tensors(Graph& g, NodeId root, const std::string& output_name) {
  std::vector<TensorRef> tensors;
  {
    const GraphPaths paths(g, root);
    for (const NodeId id : paths.reached()) {
      if (g.at(id).kind != NodeKind::Object) continue;
      auto t = recognize_tensor(g, id, output_name);
      if (!t) continue;
      if (!t->irregular.empty()) refuse_tensor(output_name, {paths.path(id), t->irregular});
      tensors.push_back(std::move(*t));
    }
  }
  for (const TensorRef& t : tensors) {
    TensorSpec spec = spec_of(g, t);
    const bool parameter = spec.parameter;
    spec.parameter = false;
    const NodeId tensor = emit_tensor(g, spec);
    g.at(t.tensor_node) = Node(g.at(tensor));
    if (!parameter) continue;
    // The parameter around the rewritten tensor node: emit one around a stand-in, then
    // point its data argument at the original node.
    spec.parameter = true;
    const NodeId param = emit_tensor(g, spec);
    const NodeId param_args = g.at(param).args;
    g.at(param_args).items[0] = t.tensor_node;
    g.at(t.node) = Node(g.at(param));
  }
}

}  // namespace

void refuse_irregular_tensors(const Checkpoint& input) {
  const auto irregular = scan_irregular_tensors(input.graph(), input.root());
  if (!irregular.empty()) refuse_tensor(input.path(), irregular.front());
  for (const auto& member : input.member_scans()) {
    if (!member.irregular.empty()) refuse_tensor(member.file, member.irregular.front());
  }
}

std::string pickle_output(Graph& graph, NodeId root, const std::string& input_name, const std::string& output_name,
                          const std::vector<std::string>& allowed_globals) {
  rewrite_tensors(graph, root, input_name);
  std::vector<std::string> refused;
  for (const GlobalSite& site : scan_globals(graph, root, 1)) {
    if (site.verdict != GlobalVerdict::CanRunCode) continue;
    if (std::find(allowed_globals.begin(), allowed_globals.end(), site.name) != allowed_globals.end()) continue;
    refused.push_back(site.paths.front() + ": " + site.name);
  }
  if (!refused.empty()) {
    std::string list;
    for (std::size_t i = 0; i < refused.size() && i < kListedInMessage; ++i) list += (i ? "; " : "") + refused[i];
    if (refused.size() > kListedInMessage) list += "; and " + std::to_string(refused.size() - kListedInMessage) + " more";
    throw InputError(input_name + ": " + output_name + " not written: it would name " + std::to_string(refused.size()) +
                     " Python global" + (refused.size() == 1 ? "" : "s") +
                     " that can run code when torch.load reads it (" + list +
                     "). fsdpshard inspect --scan lists them; --allow-global MODULE.NAME writes one anyway, "
                     "only for a file you trust");
  }
  return pickle(graph, root);
}

}  // namespace fsdpshard
