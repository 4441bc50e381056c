#include "verify/verify_side.h"

#include "formats/cfg_output.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/source/resolve_source.h"
#include "fsdpshard/source/open_source.h"
#include "fsdpshard/source/recognize_input.h"

namespace fsdpshard {
namespace {

// What verify calls a side: the format of the files it reads.
std::string kind_name(const Checkpoint& ckpt, const std::string& path) {
  switch (ckpt.kind()) {
    case InputKind::TorchSave: return "torch";
    case InputKind::Safetensors: return "safetensors";
    case InputKind::FsdpSet: return "fsdp";
    case InputKind::ShardSet: break;
  }
  // One file without an index (as huggingface_hub writes a single shard) is that file.
  if (recognize_input(path).lone_file) return ckpt.members().empty() ? "safetensors" : "torch";
  return "shards";
}

}  // namespace

VerifySide::VerifySide(const std::string& path, const std::string& from) : path_(path) {
  checkpoint_ = open_source(path, {from, "", {}});
  const Checkpoint& ckpt = *checkpoint_;
  kind_ = kind_name(ckpt, path);
  StateDict sd;
  if (ckpt.kind() == InputKind::TorchSave || ckpt.kind() == InputKind::FsdpSet) {
    sd = resolve_source(ckpt, from);
    source_ = sd.path;
  } else {
    // A synthesised graph: the state dict alone, or {'best_state': …, 'xp.cfg': …}.
    sd = ckpt.state_dict_at(ckpt.cfg() == kNoNode ? "" : "best_state");
  }
  cfg_ = cfg_yaml_of(ckpt);
  for (const std::string& input : ckpt.inputs()) files_.emplace_back(input);
  for (const NamedTensor& t : sd.tensors) {
    VerifyTensor v;
    v.name = t.name;
    for (const StorageSegment& s : ckpt.storage_location(t.tensor.storage).segments) {
      v.location.storage.push_back({files_[s.input].fd(), ckpt.inputs()[s.input], s.offset, s.length, s.placement});
    }
    v.location.offset = t.tensor.storage_offset * element_size(t.tensor.dtype);
    v.location.dtype = t.tensor.dtype;
    v.location.sizes = t.tensor.sizes;
    v.location.strides = t.tensor.strides;
    index_.emplace(v.name, tensors_.size());  // a state dict's names are unique
    tensors_.push_back(std::move(v));
  }
}

const VerifyTensor* VerifySide::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace fsdpshard
