// A symbolic pickle machine: reads any pickle stream of protocols 0-5 into an object
// Graph without importing or calling anything (docs/FORMATS.md §3).
#pragma once

#include <cstddef>
#include <string_view>

#include "fsdpshard/pickle/object_graph.h"

namespace fsdpshard {

// Bounds that keep a hostile stream from exhausting memory or stack. Exceeding one is an
// InputError, never a crash.
struct UnpickleLimits {
  std::size_t max_depth = 2000;          // nesting of containers/objects in the result
  std::size_t max_nodes = 200'000'000;   // nodes created
  std::size_t max_memo = 100'000'000;    // memo entries
  std::size_t max_stack = 100'000'000;   // stack + mark stack entries
};

// Parses a whole pickle stream into `graph`, sets graph.root and returns it. `origin`
// names the stream in error messages (e.g. "ckpt.th: data.pkl"); errors say the byte
// offset and opcode: "ckpt.th: data.pkl: offset 1234: unknown opcode 0xff".
NodeId unpickle(std::string_view stream, Graph& graph, std::string_view origin,
                const UnpickleLimits& limits = {});

}  // namespace fsdpshard
