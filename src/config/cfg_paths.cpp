#include "config/cfg_paths.h"

#include "config/yaml_reader.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/read_only_file.h"

namespace fsdpshard {

std::pair<std::string, std::string> parse_set_argument(const std::string& argument) {
  const std::size_t eq = argument.find('=');
  if (eq == std::string::npos) {
    throw InputError("--set '" + argument + "': expected KEY=VALUE (e.g. optim.lr=1e-5)");
  }
  std::string key = argument.substr(0, eq);
  config::split_key(key, "--set '" + argument + "'");  // validates the key
  return {std::move(key), argument.substr(eq + 1)};
}

}  // namespace fsdpshard

namespace fsdpshard::config {

std::vector<std::string> split_key(const std::string& dotted, const std::string& option) {
  if (dotted.empty()) throw InputError(option + ": empty key");
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError(option + ": empty segment in key '" + dotted + "'");
    parts.push_back(std::move(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

CfgValue set_value(const std::string& key, const std::string& yaml_text) {
  return parse_yaml_value(yaml_text, "--set " + key);
}

CfgValue read_merge_file(const std::string& path) {
  // A regular file of bounded size: --merge /dev/zero or a FIFO must not read forever.
  const std::string text = read_small_regular_file(path, kMaxMergeFileBytes, "--merge");
  CfgValue v = parse_yaml_config(text, "--merge " + path);
  if (!v.is_map()) throw InputError("--merge " + path + ": expected a YAML mapping at the top");
  return v;
}

}  // namespace fsdpshard::config
