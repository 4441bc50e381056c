// Every Python global an object graph names, where it sits and what it could do when
// torch.load reads the pickle: what `inspect` lists and what guards every output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fsdpshard/torch_pickle/global_allow_list.h"
#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard {

// How many paths a scan keeps per global (inspect lists them).
inline constexpr std::size_t kScanPaths = 3;

struct GlobalSite {
  std::string name;                // "module.qualname" as the pickle names it
  GlobalVerdict verdict = GlobalVerdict::CanRunCode;
  uint64_t uses = 0;               // references to it from the reachable graph
  std::vector<std::string> paths;  // the first `max_paths` of them: "history[3]['x']"
};

// Globals reachable from `root`, sorted by name. A global that is called sits at the
// call ("history[3]['x']" for posix.system('…') there); one that is an argument or a
// value sits at that slot ("….persistent_id[1]" for a storage class).
// `whole_graph` also lists the globals only unreachable nodes name: what a pickle built
// and then dropped (POP) is still imported and called by torch.load, so a scan of an
// input must see it; an output only writes what is reachable.
std::vector<GlobalSite> scan_globals(const Graph& graph, NodeId root, std::size_t max_paths,
                                     bool whole_graph = false);

// The path given for a global that only dropped objects name.
inline constexpr const char* kDroppedPath = "<built while loading, then dropped>";

// A tensor whose rebuild call is not one torch.save writes (TensorRef::irregular).
struct IrregularTensor {
  std::string path;
  std::string problem;
};
// Every such tensor reachable from `root`, in pickle order.
std::vector<IrregularTensor> scan_irregular_tensors(const Graph& graph, NodeId root);

}  // namespace fsdpshard
