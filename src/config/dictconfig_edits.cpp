#include "config/dictconfig_edits.h"

#include <unordered_map>

#include "config/cfg_paths.h"
#include "config/dictconfig_factory.h"
#include "config/dictconfig_reader.h"
#include "config/omegaconf_nodes.h"
#include "config/typed_leaf.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

namespace {

bool is_missing(const CfgValue& v) { return v.kind == CfgValue::Kind::Str && v.text == "???"; }

class GraphEditor {
 public:
  GraphEditor(Graph& g, NodeId root) : g_(g), root_(root), factory_(g, root) {}

  // OmegaConf.merge of the mapping `source` into the DictConfig `container`.
  void merge(NodeId container, const CfgValue& source, const std::string& path) {
    const NodeId content = dict_content(container, path, /*create=*/true);
    for (std::size_t i = 0; i < source.keys.size(); ++i) {
      merge_entry(container, content, source.keys[i], source.values[i],
                  child_path(path, key_text(source.keys[i])));
    }
  }

  void set(const std::vector<std::string>& parts, const CfgValue& value, const std::string& option) {
    NodeId container = root_;
    std::string path = "xp.cfg";
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      const NodeId content = dict_content(container, path, true, option);
      const CfgValue key = CfgValue::of_str(parts[i]);
      path = child_path(path, parts[i]);
      long at = find(content, key, path);
      if (at < 0) {
        append(container, content, key, CfgValue::map());
        at = static_cast<long>(g_.at(content).entries.size() - 1);
      }
      NodeId child = g_.at(content).entries[at].second;
      if (oc_kind(g_, child) == OcKind::Leaf && empty_leaf(child, path)) {
        // A null / '???' value on the way becomes a mapping, as omegaconf's merge does.
        child = factory_.make(CfgValue::map(), container, g_.at(content).entries[at].first);
        g_.at(content).entries[at].second = child;
      }
      if (oc_kind(g_, child) != OcKind::DictConfig) {
        throw InputError(option + ": '" + path.substr(7) + "' is a " + describe(child) + ", not a mapping");
      }
      container = child;
    }
    const NodeId content = dict_content(container, path, true, option);
    merge_entry(container, content, CfgValue::of_str(parts.back()), value, child_path(path, parts.back()));
  }

  void unset(const std::vector<std::string>& parts, const std::string& option) {
    NodeId container = root_;
    std::string path = "xp.cfg";
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (oc_kind(g_, container) != OcKind::DictConfig) {
        throw InputError(option + ": '" + path + "' is a " + describe(container) + ", not a mapping");
      }
      const NodeId content = dict_content(container, path, false, option);
      const long at = content == kNoNode ? -1 : find(content, CfgValue::of_str(parts[i]), path);
      path = child_path(path, parts[i]);
      if (at < 0) throw InputError(option + ": key '" + path.substr(7) + "' not found in xp.cfg");
      if (i + 1 == parts.size()) {
        auto& entries = g_.at(content).entries;
        entries.erase(entries.begin() + at);
        string_keys_.erase(content);  // positions after `at` moved
        return;
      }
      container = g_.at(content).entries[at].second;
    }
  }

 private:
  std::string describe(NodeId id) const {
    if (oc_kind(g_, id) == OcKind::Leaf) return leaf_class(g_, id) + " value";
    return g_.type_name(id);
  }

  // A leaf holding None or '???'.
  bool empty_leaf(NodeId leaf, const std::string& path) const {
    const NodeId state = oc_state(g_, leaf, path);
    const long at = entry_index(g_, state, "_val");
    if (at < 0) return false;
    const Node& v = g_.at(g_.at(state).entries[at].second);
    return v.kind == NodeKind::None || (v.kind == NodeKind::Str && v.text == "???");
  }

  // What a container holds: 'dict', 'list', or 'empty' (None / '???' / interpolation).
  std::string content_kind(NodeId container, const std::string& path) const {
    const NodeId state = oc_state(g_, container, path);
    const long at = entry_index(g_, state, "_content");
    if (at < 0) return "empty";
    const NodeId content = g_.at(state).entries[at].second;
    if (g_.is_mapping(content)) return "dict";
    if (g_.at(content).kind == NodeKind::List) return "list";
    return "empty";
  }

  // Merges `src` at `key` of a DictConfig, by the rules in yaml_edits.h.
  void merge_entry(NodeId container, NodeId content, const CfgValue& key, const CfgValue& src,
                   const std::string& path) {
    const long at = find(content, key, path);
    if (at < 0) {
      append(container, content, key, src);
      return;
    }
    if (is_missing(src)) return;  // omegaconf: '???' never overrides a value
    const NodeId child = g_.at(content).entries[at].second;
    const OcKind kind = oc_kind(g_, child);
    const std::string held = kind == OcKind::DictConfig || kind == OcKind::ListConfig
                                 ? content_kind(child, path) : "value";
    if ((src.is_map() && held == "list") || (src.is_list() && held == "dict")) {
      throw InputError(path + ": cannot merge a " + std::string(src.is_map() ? "mapping" : "list") +
                       " into a " + (held == "dict" ? "mapping" : "list"));
    }
    if (src.is_map() && kind == OcKind::DictConfig) {
      const NodeId state = oc_state(g_, child, path);
      const NodeId inner = g_.at(state).entries[entry_index(g_, state, "_content")].second;
      const bool interpolation = g_.at(inner).kind == NodeKind::Str && g_.at(inner).text != "???";
      if (!interpolation) {
        merge(child, src, path);
        return;
      }
    }
    assign(container, content, at, src, path);
  }

  // The '_content' dict of a DictConfig. A None / '???' content becomes an empty dict
  // when `create` (the edit gives the node its first keys); otherwise kNoNode.
  NodeId dict_content(NodeId container, const std::string& path, bool create,
                      const std::string& option = "--merge") {
    if (oc_kind(g_, container) != OcKind::DictConfig) {
      throw InputError(option + ": '" + path + "' is a " + describe(container) + ", not a mapping");
    }
    const NodeId state = oc_state(g_, container, path);
    const long at = entry_index(g_, state, "_content");
    if (at < 0) throw InputError(path + ": malformed DictConfig (no '_content')");
    const NodeId content = g_.at(state).entries[at].second;
    if (g_.is_mapping(content)) return content;
    const Node& c = g_.at(content);
    if (c.kind == NodeKind::None || (c.kind == NodeKind::Str && c.text == "???")) {
      if (!create) return kNoNode;
      const NodeId fresh = g_.dict();
      g_.at(state).entries[at].second = fresh;
      return fresh;
    }
    if (c.kind == NodeKind::Str) {
      throw InputError(option + ": '" + path + "' is an interpolation (" + c.text + "), not a mapping");
    }
    throw InputError(path + ": malformed DictConfig ('_content' is a " + g_.type_name(content) + ")");
  }

  long find(NodeId content, const CfgValue& key, const std::string& path) {
    const auto& entries = g_.at(content).entries;
    if (key.kind == CfgValue::Kind::Str) {
      // A string key equals only the same string: hashed, so a --merge of n keys into a
      // mapping of m costs n + m key reads, not n·m.
      auto index = string_keys_.find(content);
      if (index == string_keys_.end()) {
        index = string_keys_.emplace(content, std::unordered_map<std::string, long>{}).first;
        for (std::size_t i = 0; i < entries.size(); ++i) {
          const CfgValue k = read_key(g_, entries[i].first, path);
          if (k.kind == CfgValue::Kind::Str) index->second.emplace(k.text, static_cast<long>(i));
        }
      }
      const auto hit = index->second.find(key.text);
      return hit == index->second.end() ? -1 : hit->second;
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (same_key(read_key(g_, entries[i].first, path), key)) return static_cast<long>(i);
    }
    return -1;
  }

  void append(NodeId container, NodeId content, const CfgValue& key, const CfgValue& value) {
    const NodeId k = factory_.scalar(key);
    const NodeId child = factory_.make(value, container, k);
    auto& entries = g_.at(content).entries;
    entries.emplace_back(k, child);
    const auto index = string_keys_.find(content);
    if (index != string_keys_.end() && key.kind == CfgValue::Kind::Str) {
      index->second.emplace(key.text, static_cast<long>(entries.size() - 1));
    }
  }

  // Replaces the value at entry `at`: a leaf keeps its node (only '_val' changes, after
  // the node type's own conversion); anything else becomes a new node.
  void assign(NodeId container, NodeId content, long at, const CfgValue& value, const std::string& path) {
    const NodeId key = g_.at(content).entries[at].first;
    const NodeId child = g_.at(content).entries[at].second;
    if (oc_kind(g_, child) == OcKind::Leaf) {
      const std::string cls = leaf_class(g_, child);
      const NodeId state = oc_state(g_, child, path);
      const long val = entry_index(g_, state, "_val");
      if (cls != "AnyNode" && !value.is_scalar()) {
        throw InputError(path + ": a " + cls + " cannot hold a " +
                         std::string(value.is_map() ? "mapping" : "list"));
      }
      if (val >= 0 && value.is_scalar()) {
        const CfgValue converted = convert_for_leaf(cls, value, optional(child), path);
        const NodeId v = factory_.scalar(converted);
        g_.at(state).entries[val].second = v;
        return;
      }
    }
    const NodeId replacement = factory_.make(value, container, key);
    g_.at(content).entries[at].second = replacement;
  }

  // metadata.optional of a node (True when absent or unreadable, as omegaconf defaults).
  bool optional(NodeId node) const {
    const NodeId state = g_.at(node).state;
    const long meta_at = entry_index(g_, state, "_metadata");
    if (meta_at < 0) return true;
    const NodeId meta = g_.at(state).entries[meta_at].second;
    const NodeId meta_state = g_.at(meta).state;
    if (meta_state == kNoNode || !g_.is_mapping(meta_state)) return true;
    const long opt = entry_index(g_, meta_state, "optional");
    if (opt < 0) return true;
    const Node& v = g_.at(g_.at(meta_state).entries[opt].second);
    return v.kind != NodeKind::Bool || v.flag;
  }

  Graph& g_;
  NodeId root_;
  DictConfigFactory factory_;
  // '_content' dict -> positions of its string keys, built on the first lookup (find).
  std::unordered_map<NodeId, std::unordered_map<std::string, long>> string_keys_;
};

}  // namespace

void edit_graph(Graph& g, NodeId dictconfig, const CfgEdits& edits) {
  if (oc_kind(g, dictconfig) != OcKind::DictConfig) {
    throw InputError("xp.cfg: expected an omegaconf DictConfig, found " + g.type_name(dictconfig));
  }
  // Check the whole config reads before touching it, so a malformed one fails cleanly.
  read_container(g, dictconfig);
  std::vector<CfgValue> merges;
  for (const std::string& file : edits.merge_files) merges.push_back(read_merge_file(file));
  std::vector<std::pair<std::vector<std::string>, CfgValue>> sets;
  for (const auto& [key, text] : edits.sets) {
    sets.emplace_back(split_key(key, "--set " + key), set_value(key, text));
  }
  std::vector<std::vector<std::string>> unsets;
  for (const std::string& key : edits.unsets) unsets.push_back(split_key(key, "--unset " + key));

  GraphEditor editor(g, dictconfig);
  for (const CfgValue& m : merges) editor.merge(dictconfig, m, "xp.cfg");
  for (std::size_t i = 0; i < sets.size(); ++i) {
    editor.set(sets[i].first, sets[i].second, "--set " + edits.sets[i].first);
  }
  for (std::size_t i = 0; i < unsets.size(); ++i) editor.unset(unsets[i], "--unset " + edits.unsets[i]);
}

}  // namespace fsdpshard::config
