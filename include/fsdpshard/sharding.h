// How tensors are split into shard files (Hugging Face sharded-checkpoint conventions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fsdpshard {

// A unit that must stay in one file: the tensors sharing one storage (usually one tensor).
struct ShardUnit {
  std::vector<std::size_t> tensors;  // indices into the caller's tensor list, in key order
  uint64_t bytes = 0;
};

// --shards N: units spread over N files balancing bytes, largest first onto the lightest
// file (ties: lower file). Returns each unit's file. Files may stay empty when N > units.
std::vector<int> balance_shards(const std::vector<ShardUnit>& units, int shards);

// --max-shard-size: greedy in key order (the Hugging Face rule): a unit goes to the
// current file unless that would pass `limit`, then a new file starts; a unit larger
// than the limit gets a file of its own. Returns each unit's file; *count = files.
std::vector<int> greedy_shards(const std::vector<ShardUnit>& units, uint64_t limit, int* count);

// "pytorch_model-00001-of-00003.bin" / "model-00001-of-00003.safetensors" (k from 0).
std::string shard_file_name(bool safetensors, int k, int count);
// "pytorch_model.bin.index.json" / "model.safetensors.index.json".
std::string shard_index_name(bool safetensors);

}  // namespace fsdpshard
