#include "config/yaml_edits.h"

#include "config/cfg_paths.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

namespace {

bool is_missing(const CfgValue& v) { return v.kind == CfgValue::Kind::Str && v.text == "???"; }

std::string joined(const std::vector<std::string>& parts, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += (i ? "." : "") + parts[i];
  return out;
}

// The mapping that holds the last segment of `parts`; creates missing mappings when
// `create` (for --set), else errors.
CfgValue& parent_of(CfgValue& root, const std::vector<std::string>& parts, bool create,
                    const std::string& option) {
  CfgValue* cur = &root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const CfgValue key = CfgValue::of_str(parts[i]);
    long at = find_key(*cur, key);
    if (at < 0) {
      if (!create) throw InputError(option + ": key '" + joined(parts, i + 1) + "' not found in xp.cfg");
      cur->keys.push_back(key);
      cur->values.push_back(CfgValue::map());
      at = static_cast<long>(cur->keys.size() - 1);
    }
    CfgValue& child = cur->values[at];
    if (!child.is_map()) {
      if (create && (child.kind == CfgValue::Kind::Null || is_missing(child))) {
        child = CfgValue::map();  // an empty (None / '???') node becomes a mapping
      } else {
        throw InputError(option + ": '" + joined(parts, i + 1) + "' is not a mapping");
      }
    }
    cur = &child;
  }
  return *cur;
}

}  // namespace

void merge_values(CfgValue& target, const CfgValue& source) {
  KeyPositions positions(target);
  for (std::size_t i = 0; i < source.keys.size(); ++i) {
    const long at = positions.find(target, source.keys[i]);
    if (at < 0) {
      positions.put(target, source.keys[i], source.values[i]);
      continue;
    }
    CfgValue& dest = target.values[at];
    const CfgValue& src = source.values[i];
    if (is_missing(src)) continue;
    if ((src.is_map() && dest.is_list()) || (src.is_list() && dest.is_map())) {
      throw InputError("xp.cfg: cannot merge a " + std::string(src.is_map() ? "mapping" : "list") +
                       " into the " + (dest.is_map() ? "mapping" : "list") + " at '" +
                       key_text(source.keys[i]) + "'");
    }
    if (src.is_map() && dest.is_map()) merge_values(dest, src);
    else dest = src;
  }
}

void apply_edits(CfgValue& root, const CfgEdits& edits) {
  if (!root.is_map()) throw InputError("xp.cfg: edits need a mapping at the top of the config");
  for (const std::string& file : edits.merge_files) merge_values(root, read_merge_file(file));
  for (const auto& [key, text] : edits.sets) {
    const std::string option = "--set " + key;
    const auto parts = split_key(key, option);
    CfgValue single = CfgValue::map();
    single.keys.push_back(CfgValue::of_str(parts.back()));
    single.values.push_back(set_value(key, text));
    merge_values(parent_of(root, parts, true, option), single);
  }
  for (const std::string& key : edits.unsets) {
    const std::string option = "--unset " + key;
    const auto parts = split_key(key, option);
    CfgValue& parent = parent_of(root, parts, false, option);
    const long at = find_key(parent, CfgValue::of_str(parts.back()));
    if (at < 0) throw InputError(option + ": key '" + key + "' not found in xp.cfg");
    parent.keys.erase(parent.keys.begin() + at);
    parent.values.erase(parent.values.begin() + at);
  }
}

}  // namespace fsdpshard::config
