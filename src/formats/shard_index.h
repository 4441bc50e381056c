// The text of a shard index (model.safetensors.index.json / pytorch_model.bin.index.json)
// byte for byte as huggingface_hub's save_torch_state_dict writes it:
// json.dump({"metadata": {"total_size": N, **metadata}, "weight_map": {...}}, f, indent=2)
// — two-space indent, ", "-free item separators, ASCII-only escapes, no trailing newline.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fsdpshard {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// `metadata` follows total_size in the given order; `weight_map` is tensor -> file in
// the given order. InputError when a string is not UTF-8.
std::string shard_index_json(uint64_t total_size, const StringPairs& metadata, const StringPairs& weight_map);

// A JSON string literal as Python's json.dumps(s) (ensure_ascii=True) spells it.
std::string python_json_string(const std::string& utf8);

}  // namespace fsdpshard
