// How tensors are split into shard files, by huggingface_hub's rules
// (serialization/_base.py: split_state_dict_into_shards_factory) for --max-shard-size,
// and by bytes balance for fsdpshard's own --shards N.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fsdpshard {

// A unit that must stay in one file: the tensors sharing one output storage (usually one
// tensor). `bytes` is that storage's size, counted once however many tensors use it (what
// huggingface_hub's get_torch_storage_size counts).
struct ShardUnit {
  std::vector<std::size_t> tensors;  // indices into the caller's tensor list, in key order
  uint64_t bytes = 0;
};

// Each file's tensor indices, in the order the index's weight_map lists them.
using ShardFiles = std::vector<std::vector<std::size_t>>;

// --max-shard-size, exactly as huggingface_hub: units in key order; a unit larger than
// `limit` becomes a file of its own at once (before the open file, which keeps filling);
// otherwise a unit that would pass the limit closes the open file first. A unit's first
// tensor takes its place in its file, the unit's other tensors follow at the end of that
// file (huggingface_hub reassigns them after the split). At least one file.
ShardFiles hf_shards(const std::vector<ShardUnit>& units, uint64_t limit);

// --shards N: units spread over N files balancing bytes, largest first onto the lightest
// file (ties: lower file); each file's tensors in key order. Files may stay empty.
ShardFiles balance_shards(const std::vector<ShardUnit>& units, int shards);

// huggingface_hub's names: "model.safetensors" / "pytorch_model.bin" for a single file,
// else "model-00001-of-00003.safetensors" / "pytorch_model-00001-of-00003.bin" (k from 0).
std::string shard_file_name(bool safetensors, int k, int count);
// "model.safetensors.index.json" / "pytorch_model.bin.index.json": written only when
// there is more than one file, as huggingface_hub does.
std::string shard_index_name(bool safetensors);

}  // namespace fsdpshard
