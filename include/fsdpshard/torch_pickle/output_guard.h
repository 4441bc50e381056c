// The one gate every torch.save output passes (gather, reshard's shards and rank files,
// cfg -o / --in-place): no output may carry code.
//
//  - Every tensor in the output is rewritten from its parsed values (tensor_nodes.h):
//    storage, dtype, offset, size, stride, requires_grad, and an empty OrderedDict() as
//    backward_hooks, the forms torch.save itself writes.
//  - A tensor whose rebuild call is not one torch.save writes (hooks that are not an
//    empty OrderedDict(), an unexpected argument, a BUILD on it) is refused, exit 2,
//    naming it: such a file was crafted, and silently "repairing" it would hide that.
//  - Every global the output's pickle names is checked against global_allow_list.h; one
//    outside it is refused (exit 2, naming the global and where it sits), unless the user
//    named it with --allow-global MOD.NAME.
// All of it runs while planning, before any rank creates a file: nothing is written.
#pragma once

#include <string>
#include <vector>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard {

// InputError naming the first tensor of `input` (reachable from its root) whose rebuild
// call is irregular. For inputs whose tensors feed an output by their values only (the
// gathered or resharded state dicts, FSDP rank files).
void refuse_irregular_tensors(const Checkpoint& input);

// Rewrites the tensors reachable from `root`, checks the globals and returns the pickle
// bytes of the output `output_name` made from `input_name` (both for messages).
// `allowed_globals`: "module.name" entries the user allowed with --allow-global.
std::string pickle_output(Graph& graph, NodeId root, const std::string& input_name, const std::string& output_name,
                          const std::vector<std::string>& allowed_globals);

}  // namespace fsdpshard
