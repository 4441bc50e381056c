// Writes an object Graph back as a pickle of protocol 2, using only the opcodes that
// torch.load(weights_only=True) knows (docs/FORMATS.md §2), keeping sharing and cycles.
#pragma once

#include <string>

#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard {

// The pickle stream for the object `root` of `graph`, ending with STOP.
std::string pickle(const Graph& graph, NodeId root);

}  // namespace fsdpshard
