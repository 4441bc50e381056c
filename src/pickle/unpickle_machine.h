// The state of the symbolic pickle machine: the input cursor, the stack with its marks,
// the memo, and node creation under UnpickleLimits. The meaning of each opcode lives in
// unpickler.cpp; this part knows how to read, push, pop and complain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fsdpshard/pickle/object_graph.h"
#include "fsdpshard/pickle/unpickler.h"

namespace fsdpshard::unpickle_detail {

class Machine {
 public:
  Machine(std::string_view stream, Graph& graph, std::string_view origin,
          const UnpickleLimits& limits);

  // ---- errors: "<origin>: offset N: <problem> (opcode 0xNN 'NAME')"
  [[noreturn]] void fail(const std::string& problem) const;

  // ---- the input
  bool at_end() const { return pos_ >= in_.size(); }
  // Reads the next opcode and remembers where it was, for error messages.
  uint8_t begin_opcode();
  // Forget the opcode (for problems that belong to the stream, not to one opcode).
  void end_opcode() { has_opcode_ = false; op_offset_ = pos_; }
  std::string_view take(uint64_t count);           // exactly `count` bytes, or fail
  uint64_t read_uint(std::size_t width);           // little-endian unsigned
  int32_t read_int32() { return static_cast<int32_t>(static_cast<uint32_t>(read_uint(4))); }
  double read_big_endian_double();
  std::string_view read_line();                    // up to '\n' (not included)
  std::size_t remaining() const { return in_.size() - pos_; }

  // ---- the stack (values) and its marks
  void push(NodeId id);
  NodeId pop();
  NodeId top();
  void push_mark();
  bool has_value_above_mark() const { return stack_.size() > fence(); }
  bool has_mark() const { return !marks_.empty(); }
  void drop_mark() { marks_.pop_back(); }
  // The values above the last MARK, removing them and the mark.
  std::vector<NodeId> pop_to_mark();

  // ---- the memo
  void memo_put(uint64_t key, NodeId id);
  NodeId memo_get(uint64_t key) const;
  std::size_t memo_size() const { return memo_.size(); }

  // ---- nodes
  Graph& graph() { return graph_; }
  // Adds `node` (its depth derived from what it refers to), within the limits.
  NodeId make(Node node);
  // Records that `container` now also refers to `child` (APPEND, SETITEM, BUILD…).
  void grew(NodeId container, NodeId child);

 private:
  std::size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  uint32_t depth_of(NodeId id) const { return id >= base_ ? depth_[id - base_] : 1; }
  void check_depth(uint32_t depth) const;
  void check_stack() const;

  std::string_view in_;
  std::size_t pos_ = 0;
  std::size_t op_offset_ = 0;
  uint8_t op_ = 0;
  bool has_opcode_ = false;

  Graph& graph_;
  std::string origin_;
  const UnpickleLimits& limits_;

  NodeId base_;                 // first node id this run creates
  std::vector<uint32_t> depth_;  // per created node: nesting depth (leaf = 1)
  std::vector<NodeId> stack_;
  std::vector<std::size_t> marks_;  // stack sizes at each MARK
  std::unordered_map<uint64_t, NodeId> memo_;
};

}  // namespace fsdpshard::unpickle_detail
