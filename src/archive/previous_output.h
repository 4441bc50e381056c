// What a folder that fsdpshard wrote consists of, so that --force replaces such a folder
// and nothing else (README "Safety"). Recognised, with nothing else in the folder:
//   - a shard set (reshard --shards / --max-shard-size): one index,
//     pytorch_model.bin.index.json or model.safetensors.index.json, its shard files
//     pytorch_model-0000k-of-0000N.bin / model-0000k-of-0000N.safetensors for every
//     k = 1..N of one N, and optionally config.yaml;
//   - FSDP rank files (reshard --world M): NAME, NAME.1, ..., NAME.<M-1> for one NAME,
//     each a torch.save archive (a zip whose first record is <root>/data.pkl);
//   - nothing at all (an empty folder).
// Every entry must be a regular file: a sub-folder, link or device is never ours.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fsdpshard::archive {

// The names in `folder` when it is one of the above (none for an empty folder);
// std::nullopt otherwise, with `why_not` saying what in it is not ours.
std::optional<std::vector<std::string>> previous_output_files(const std::string& folder, std::string& why_not);

}  // namespace fsdpshard::archive
