#include "fsdpshard/plan/sharding.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace fsdpshard {
namespace {

// A file's tensors: each unit's first tensor in unit order, then the units' other tensors.
std::vector<std::size_t> file_order(const std::vector<ShardUnit>& units, const std::vector<std::size_t>& in_file) {
  std::vector<std::size_t> tensors;
  for (std::size_t u : in_file) tensors.push_back(units[u].tensors.front());
  for (std::size_t u : in_file) tensors.insert(tensors.end(), units[u].tensors.begin() + 1, units[u].tensors.end());
  return tensors;
}

}  // namespace

ShardFiles hf_shards(const std::vector<ShardUnit>& units, uint64_t limit) {
  std::vector<std::vector<std::size_t>> files;  // unit indices per file
  std::vector<std::size_t> open;
  uint64_t filled = 0;
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (units[u].tensors.empty()) continue;
    if (units[u].bytes > limit) {
      files.push_back({u});  // numbered before the open file, which stays open
      continue;
    }
    if (filled + units[u].bytes > limit) {
      files.push_back(std::move(open));
      open.clear();
      filled = 0;
    }
    open.push_back(u);
    filled += units[u].bytes;
  }
  if (!open.empty() || files.empty()) files.push_back(std::move(open));
  ShardFiles out;
  for (const auto& in_file : files) out.push_back(file_order(units, in_file));
  return out;
}

ShardFiles balance_shards(const std::vector<ShardUnit>& units, int shards) {
  std::vector<std::size_t> order(units.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return units[a].bytes > units[b].bytes; });
  std::vector<uint64_t> load(static_cast<std::size_t>(shards), 0);
  ShardFiles files(static_cast<std::size_t>(shards));
  for (std::size_t u : order) {
    const auto lightest = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    files[lightest].insert(files[lightest].end(), units[u].tensors.begin(), units[u].tensors.end());
    load[lightest] += units[u].bytes;
  }
  for (auto& tensors : files) std::sort(tensors.begin(), tensors.end());  // key order within a file
  return files;
}

std::string shard_file_name(bool safetensors, int k, int count) {
  if (count == 1) return safetensors ? "model.safetensors" : "pytorch_model.bin";
  char name[96];
  std::snprintf(name, sizeof name, safetensors ? "model-%05d-of-%05d.safetensors" : "pytorch_model-%05d-of-%05d.bin",
                k + 1, count);
  return name;
}

std::string shard_index_name(bool safetensors) {
  return safetensors ? "model.safetensors.index.json" : "pytorch_model.bin.index.json";
}

}  // namespace fsdpshard
