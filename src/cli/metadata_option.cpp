#include "cli/metadata_option.h"

#include "fsdpshard/util/error.h"

namespace fsdpshard::cli {

std::vector<std::pair<std::string, std::string>> parse_shard_metadata(const std::vector<std::string>& given) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& item : given) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw InputError("--metadata '" + item + "': expected KEY=VALUE");
    std::string key = item.substr(0, eq);
    // huggingface_hub would let these replace its own entries: the index's size, and the
    // "pt" tag its loaders check.
    if (key == "total_size" || key == "format") {
      throw InputError("--metadata " + key + ": reserved (fsdpshard writes it)");
    }
    out.emplace_back(std::move(key), item.substr(eq + 1));
  }
  return out;
}

}  // namespace fsdpshard::cli
