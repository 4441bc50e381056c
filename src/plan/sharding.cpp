#include "fsdpshard/sharding.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace fsdpshard {

std::vector<int> balance_shards(const std::vector<ShardUnit>& units, int shards) {
  std::vector<std::size_t> order(units.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return units[a].bytes > units[b].bytes; });
  std::vector<uint64_t> load(static_cast<std::size_t>(shards), 0);
  std::vector<int> file(units.size(), 0);
  for (std::size_t u : order) {
    const auto lightest = std::min_element(load.begin(), load.end()) - load.begin();
    file[u] = static_cast<int>(lightest);
    load[static_cast<std::size_t>(lightest)] += units[u].bytes;
  }
  return file;
}

std::vector<int> greedy_shards(const std::vector<ShardUnit>& units, uint64_t limit, int* count) {
  std::vector<int> file(units.size(), 0);
  int current = 0;
  uint64_t filled = 0;
  bool empty = true;
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (!empty && filled + units[u].bytes > limit) {
      ++current;
      filled = 0;
      empty = true;
    }
    file[u] = current;
    filled += units[u].bytes;
    empty = false;
  }
  *count = units.empty() ? 1 : current + 1;
  return file;
}

std::string shard_file_name(bool safetensors, int k, int count) {
  char name[96];
  std::snprintf(name, sizeof name, safetensors ? "model-%05d-of-%05d.safetensors" : "pytorch_model-%05d-of-%05d.bin",
                k + 1, count);
  return name;
}

std::string shard_index_name(bool safetensors) {
  return safetensors ? "model.safetensors.index.json" : "pytorch_model.bin.index.json";
}

}  // namespace fsdpshard
