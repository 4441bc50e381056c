#include "pickle/graph_paths.h"

#include <algorithm>

#include "pickle/graph_walk.h"

namespace fsdpshard {
namespace {

constexpr std::size_t kMaxSegments = 48;  // deeper paths keep their ends, "…" between
constexpr std::size_t kMaxKeyChars = 200;  // longer keys (hostile ones) are cut

// A str key as Python's repr would show it (single quotes, escapes), shortened.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kMaxKeyChars; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static const char* const kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxKeyChars) out += "...";
  return out + "'";
}

}  // namespace

GraphPaths::GraphPaths(const Graph& graph, NodeId root)
    : g_(graph), root_(root), parent_(graph.size(), kNoNode), parent_slot_(graph.size(), 0) {
  if (root == kNoNode || root >= graph.size()) return;
  std::vector<bool> seen(graph.size(), false);
  struct Visit {
    NodeId id, parent;
    uint32_t slot;
  };
  std::vector<Visit> stack{{root, kNoNode, 0}};
  while (!stack.empty()) {
    const Visit v = stack.back();
    stack.pop_back();
    if (v.id == kNoNode || v.id >= graph.size() || seen[v.id]) continue;
    seen[v.id] = true;
    parent_[v.id] = v.parent;
    parent_slot_[v.id] = v.slot;
    order_.push_back(v.id);
    const Node& node = graph.at(v.id);
    const std::size_t slots = graph_walk::slot_count(node);
    for (std::size_t i = slots; i-- > 0;) {  // reversed: the first slot is walked first
      const NodeId child = graph_walk::slot(node, i);
      if (child != kNoNode && child < graph.size() && !seen[child]) {
        stack.push_back({child, v.id, static_cast<uint32_t>(i)});
      }
    }
  }
}

std::string GraphPaths::label(NodeId holder, std::size_t slot, bool top_level) const {
  const Node& node = g_.at(holder);
  if (slot < node.items.size()) return "[" + std::to_string(slot) + "]";
  slot -= node.items.size();
  if (slot < 2 * node.entries.size()) {
    const std::size_t entry = slot / 2;
    if (slot % 2 == 0) return ".keys()[" + std::to_string(entry) + "]";
    const Node& key = g_.at(node.entries[entry].first);
    if (key.kind == NodeKind::Str) return top_level ? key.text : "[" + quoted(key.text) + "]";
    if (key.kind == NodeKind::Int) return "[" + std::to_string(key.int_value) + "]";
    return ".values()[" + std::to_string(entry) + "]";
  }
  switch (slot - 2 * node.entries.size()) {
    case 0: return "";  // the callable: the call is the holder itself
    case 1: return ".args";
    case 2: return ".kwargs";
    case 3: return ".state";
    case 4: return ".persistent_id";
    default: return "";
  }
}

std::string GraphPaths::path(NodeId id) const {
  if (id == kNoNode || id >= parent_.size()) return "<root>";
  std::vector<std::string> segments;  // leaf first
  for (NodeId at = id; at != root_ && parent_[at] != kNoNode; at = parent_[at]) {
    segments.push_back(label(parent_[at], parent_slot_[at], parent_[at] == root_));
  }
  if (segments.empty()) return "<root>";
  std::reverse(segments.begin(), segments.end());
  if (segments.size() > kMaxSegments) {
    segments.erase(segments.begin() + kMaxSegments / 2, segments.end() - kMaxSegments / 2);
    segments.insert(segments.begin() + kMaxSegments / 2, "[...]");
  }
  std::string out;
  for (const auto& s : segments) out += s;
  return out.empty() ? "<root>" : out;
}

std::string GraphPaths::path(NodeId holder, std::size_t slot) const {
  const std::string base = path(holder);
  const std::string last = label(holder, slot, holder == root_);
  if (last.empty()) return base;
  return holder == root_ ? last : base + last;
}

}  // namespace fsdpshard
