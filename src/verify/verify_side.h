// One side of `fsdpshard verify`: any input open_source() opens (a torch.save file, a
// .safetensors file, a shard set, an FSDP run's rank files with a per-rank --from), its
// resolved state dict, and where each tensor's bytes are, for reading values through
// TensorStream in bounded pieces.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "verify/tensor_stream.h"
#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/archive/read_only_file.h"

namespace fsdpshard {

struct VerifyTensor {
  std::string name;
  TensorLocation location;
  uint64_t nbytes() const { return location.numel() * element_size(location.dtype); }
};

class VerifySide {
 public:
  // `from` picks the state dict of torch checkpoints and FSDP sets (as gather's --from);
  // safetensors files and shard sets are compared whole. InputError for anything
  // unreadable.
  VerifySide(const std::string& path, const std::string& from);
  VerifySide(const VerifySide&) = delete;
  VerifySide& operator=(const VerifySide&) = delete;

  const std::string& path() const { return path_; }
  // "torch", "safetensors", "shards" or "fsdp"; a folder with one lone file reads as that
  // file's kind.
  const std::string& kind() const { return kind_; }
  const std::string& source() const { return source_; }  // the state dict's path ("" when whole)
  const std::vector<VerifyTensor>& tensors() const { return tensors_; }  // names unique
  const VerifyTensor* find(const std::string& name) const;
  const std::optional<std::string>& cfg_yaml() const { return cfg_; }  // OmegaConf.to_yaml form
  // Every zip archive of this side (each torch file it reads), for --crc.
  std::vector<const ZipReader*> archives() const { return checkpoint_->archives(); }

 private:
  std::string path_;
  std::string kind_;
  std::string source_;
  std::unique_ptr<Checkpoint> checkpoint_;
  std::vector<ReadOnlyFile> files_;  // one per checkpoint_->inputs()
  std::vector<VerifyTensor> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
  std::optional<std::string> cfg_;
};

}  // namespace fsdpshard
