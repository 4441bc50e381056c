// CfgEdits applied in place to a DictConfig object graph, with the semantics described in
// yaml_edits.h. Untouched nodes keep their ids; a changed leaf keeps its node and gets a
// new '_val'; new subtrees come from DictConfigFactory (layout of the input's own nodes).
#pragma once

#include "fsdpshard/config/cfg.h"
#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard::config {

void edit_graph(Graph& g, NodeId dictconfig, const CfgEdits& edits);

}  // namespace fsdpshard::config
