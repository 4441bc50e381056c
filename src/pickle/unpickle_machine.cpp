#include "pickle/unpickle_machine.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "fsdpshard/util/error.h"
#include "pickle/graph_walk.h"
#include "pickle/pickle_opcodes.h"

namespace fsdpshard::unpickle_detail {

Machine::Machine(std::string_view stream, Graph& graph, std::string_view origin,
                 const UnpickleLimits& limits)
    : in_(stream),
      graph_(graph),
      origin_(origin),
      limits_(limits),
      base_(static_cast<NodeId>(graph.size())) {}

void Machine::fail(const std::string& problem) const {
  std::string message = origin_ + ": offset " + std::to_string(op_offset_) + ": " + problem;
  if (has_opcode_) {
    char code[8];
    std::snprintf(code, sizeof code, "0x%02x", op_);
    const char* name = pickle_op::name(op_);
    message += std::string(" (opcode ") + code + " '" + (name ? name : "?") + "')";
  }
  throw InputError(message);
}

uint8_t Machine::begin_opcode() {
  op_offset_ = pos_;
  op_ = static_cast<uint8_t>(in_[pos_++]);
  has_opcode_ = pickle_op::name(op_) != nullptr;
  return op_;
}

std::string_view Machine::take(uint64_t count) {
  if (count > remaining()) {
    fail("truncated stream: needs " + std::to_string(count) + " byte(s), only " +
         std::to_string(remaining()) + " left");
  }
  const std::string_view out = in_.substr(pos_, static_cast<std::size_t>(count));
  pos_ += static_cast<std::size_t>(count);
  return out;
}

uint64_t Machine::read_uint(std::size_t width) {
  const std::string_view bytes = take(width);
  uint64_t value = 0;
  for (std::size_t i = width; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

double Machine::read_big_endian_double() {
  const std::string_view bytes = take(8);
  uint64_t bits = 0;
  for (char c : bytes) bits = (bits << 8) | static_cast<uint8_t>(c);
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::string_view Machine::read_line() {
  const std::size_t newline = in_.find('\n', pos_);
  if (newline == std::string_view::npos) fail("truncated stream: text argument has no newline");
  const std::string_view line = in_.substr(pos_, newline - pos_);
  pos_ = newline + 1;
  return line;
}

void Machine::check_stack() const {
  if (stack_.size() + marks_.size() >= limits_.max_stack) {
    fail("stack holds more than " + std::to_string(limits_.max_stack) + " entries (limit)");
  }
}

void Machine::push(NodeId id) {
  check_stack();
  stack_.push_back(id);
}

NodeId Machine::pop() {
  if (stack_.size() <= fence()) {
    fail(marks_.empty() ? "stack underflow: the stack is empty"
                        : "stack underflow: no value above the last MARK");
  }
  const NodeId id = stack_.back();
  stack_.pop_back();
  return id;
}

NodeId Machine::top() {
  if (stack_.size() <= fence()) {
    fail(marks_.empty() ? "stack underflow: the stack is empty"
                        : "stack underflow: no value above the last MARK");
  }
  return stack_.back();
}

void Machine::push_mark() {
  check_stack();
  marks_.push_back(stack_.size());
}

std::vector<NodeId> Machine::pop_to_mark() {
  if (marks_.empty()) fail("unbalanced MARK: this opcode needs a MARK and none is on the stack");
  const std::size_t mark = marks_.back();
  marks_.pop_back();
  std::vector<NodeId> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
  stack_.resize(mark);
  return items;
}

void Machine::memo_put(uint64_t key, NodeId id) {
  if (memo_.size() >= limits_.max_memo && memo_.find(key) == memo_.end()) {
    fail("memo holds more than " + std::to_string(limits_.max_memo) + " entries (limit)");
  }
  memo_[key] = id;
}

NodeId Machine::memo_get(uint64_t key) const {
  const auto it = memo_.find(key);
  if (it == memo_.end()) {
    fail("memo key " + std::to_string(key) + " not found (a GET before its PUT)");
  }
  return it->second;
}

void Machine::check_depth(uint32_t depth) const {
  if (depth > limits_.max_depth) {
    fail("structure nests deeper than " + std::to_string(limits_.max_depth) + " levels (limit)");
  }
}

NodeId Machine::make(Node node) {
  if (graph_.size() - base_ >= limits_.max_nodes) {
    fail("more than " + std::to_string(limits_.max_nodes) + " objects (limit)");
  }
  uint32_t deepest_child = 0;
  const std::size_t slots = graph_walk::slot_count(node);
  for (std::size_t i = 0; i < slots; ++i) {
    const NodeId child = graph_walk::slot(node, i);
    if (child != kNoNode) deepest_child = std::max(deepest_child, depth_of(child));
  }
  const uint32_t depth = deepest_child + 1;
  check_depth(depth);
  const NodeId id = graph_.add(std::move(node));
  depth_.push_back(depth);
  return id;
}

void Machine::grew(NodeId container, NodeId child) {
  if (container < base_) return;
  const uint32_t depth = depth_of(child) + 1;
  check_depth(depth);
  uint32_t& current = depth_[container - base_];
  if (depth > current) current = depth;
}

}  // namespace fsdpshard::unpickle_detail
