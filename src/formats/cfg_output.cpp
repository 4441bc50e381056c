#include "formats/cfg_output.h"

#include <sstream>
#include <vector>

#include "fsdpshard/config/cfg.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {

void rethrow_naming_file(const std::string& file) {
  try {
    throw;
  } catch (const InputError& e) {
    const std::string what = e.what();
    if (what.compare(0, file.size(), file) == 0) throw;
    throw InputError(file + ": " + what);
  }
}

std::optional<std::string> cfg_yaml_of(const Checkpoint& ckpt) {
  try {
    return ckpt.cfg_yaml();
  } catch (const InputError&) {
    rethrow_naming_file(ckpt.path());
  }
}

namespace {

PreparedCfg prepare_cfg_unnamed(Checkpoint& ckpt, const CfgEdits& edits, CfgFormat format) {
  Graph& g = ckpt.graph();
  PreparedCfg out;
  const NodeId node = ckpt.cfg();
  if (node == kNoNode) {
    if (!edits.empty()) throw InputError(ckpt.path() + ": no xp.cfg in this checkpoint to edit");
    return out;
  }
  const bool is_text = g.at(node).kind == NodeKind::Str;
  if (!is_text && !is_dictconfig(g, node)) {
    throw InputError(ckpt.path() + ": xp.cfg is a " + g.type_name(node) + ", neither a DictConfig nor YAML text");
  }
  out.yaml_before = is_text ? normalize_yaml(g.at(node).text) : dictconfig_to_yaml(g, node);
  if (is_text) {
    out.yaml_after = edits.empty() ? out.yaml_before : edit_yaml(g.at(node).text, edits);
    if (format == CfgFormat::DictConfig) {
      out.node = dictconfig_from_yaml(g, out.yaml_after);
    } else {
      // Unedited text stays byte for byte what the input had.
      out.node = edits.empty() ? node : g.str(out.yaml_after);
    }
    return out;
  }
  if (!edits.empty()) edit_dictconfig(g, node, edits);
  out.yaml_after = edits.empty() ? out.yaml_before : dictconfig_to_yaml(g, node);
  out.node = format == CfgFormat::Yaml ? g.str(out.yaml_after) : node;
  return out;
}

}  // namespace

PreparedCfg prepare_cfg(Checkpoint& ckpt, const CfgEdits& edits, CfgFormat format) {
  try {
    return prepare_cfg_unnamed(ckpt, edits, format);
  } catch (const InputError&) {
    rethrow_naming_file(ckpt.path());
  }
}

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

std::string yaml_diff(const std::string& before, const std::string& after) {
  if (before == after) return "";
  // Longest common subsequence over lines: configs are small (hundreds of lines).
  const auto a = lines_of(before);
  const auto b = lines_of(after);
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (std::size_t i = a.size(); i-- > 0;) {
    for (std::size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string diff;
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ++i;
      ++j;
    } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      diff += "+ " + b[j++] + "\n";
    } else {
      diff += "- " + a[i++] + "\n";
    }
  }
  return diff;
}

}  // namespace fsdpshard
