// One side of `fsdpshard verify`: a torch.save checkpoint, a .safetensors file, or a shard
// set (a folder, or its *.index.json, as reshard writes them), opened for metadata only.
// Tensor bytes are read later, in bounded pieces, through TensorLocation.
#pragma once

#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "commands/tensor_stream.h"
#include "fsdpshard/checkpoint.h"
#include "fsdpshard/safetensors.h"

namespace fsdpshard {

struct VerifyTensor {
  std::string name;
  TensorLocation location;
  uint64_t nbytes() const { return location.numel() * element_size(location.dtype); }
};

// A zip record whose CRC-32 verify --crc checks.
struct CrcJob {
  std::size_t archive = 0;  // index into VerifyInput::archives()
  std::size_t record = 0;   // index into that archive's records()
};

class VerifyInput {
 public:
  // `from` picks the state dict of torch checkpoints (as gather's --from); safetensors
  // files and shard sets are compared whole. InputError for anything unreadable.
  VerifyInput(const std::string& path, const std::string& from);
  VerifyInput(const VerifyInput&) = delete;
  VerifyInput& operator=(const VerifyInput&) = delete;

  const std::string& path() const { return path_; }
  const std::string& kind() const { return kind_; }      // "torch", "safetensors", "shards"
  const std::string& source() const { return source_; }  // state dict path within a torch file
  const std::vector<VerifyTensor>& tensors() const { return tensors_; }  // names unique
  const VerifyTensor* find(const std::string& name) const;
  const std::optional<std::string>& cfg_yaml() const { return cfg_; }  // OmegaConf.to_yaml form
  // Every zip archive of this side (torch files), for --crc.
  std::vector<const ZipReader*> archives() const;

 private:
  void open_file(const std::string& file, const std::string& from, bool in_shard_set);
  void open_torch(const std::string& file, const std::string& from);
  void open_safetensors(const std::string& file, bool take_cfg);
  void open_shard_set(const std::string& index_path);
  void add(VerifyTensor tensor);
  void restore_tied_names(const std::vector<std::pair<std::string, std::string>>& metadata);

  std::string path_;
  std::string kind_;
  std::string source_;
  std::vector<std::unique_ptr<Checkpoint>> torch_files_;
  std::vector<std::unique_ptr<SafetensorsReader>> safetensors_files_;
  std::vector<VerifyTensor> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
  std::optional<std::string> cfg_;
};

}  // namespace fsdpshard
