// libFuzzer target: the symbolic unpickler on arbitrary bytes, then what consumers do
// with its graph (tensor recognition, re-pickling). Anything but an InputError from a
// malformed stream is a bug: crashes, sanitizer reports, leaks, other exceptions.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fsdpshard/util/error.h"
#include "fsdpshard/pickle/pickler.h"
#include "fsdpshard/torch_pickle/tensor_ref.h"
#include "fsdpshard/pickle/unpickler.h"

using namespace fsdpshard;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Graph graph;
  // Lower limits than the defaults keep one input's work small; the checks are the same.
  UnpickleLimits limits;
  limits.max_nodes = 1'000'000;
  limits.max_memo = 1'000'000;
  limits.max_stack = 1'000'000;
  try {
    const NodeId root = unpickle(std::string_view(reinterpret_cast<const char*>(data), size), graph,
                                 "fuzz: data.pkl", limits);
    for (NodeId id = 0; id < graph.size(); ++id) {
      try {
        (void)recognize_tensor(graph, id, "fuzz");
      } catch (const InputError&) {
      }
    }
    // gather re-pickles the graph it read: every graph the unpickler makes must pickle.
    const std::string again = pickle(graph, root);
    Graph second;
    unpickle(again, second, "fuzz: re-pickled", limits);
  } catch (const InputError&) {
  }
  return 0;
}
