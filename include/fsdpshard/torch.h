// fsdpshard for LibTorch programs: load any checkpoint the fsdpshard CLI reads as
// at::Tensors, and save state dicts that Python's torch.load(weights_only=True) reads.
//
//   #include <fsdpshard/torch.h>
//   auto ckpt = fsdpshard::libtorch::load("checkpoint.th");          // --from auto
//   for (const auto& [name, tensor] : ckpt.tensors) ...
//
// Nothing in a checkpoint is executed: its pickle is read symbolically, as the CLI does.
// Tensors that need no cast are zero-copy views of a private memory mapping of the input
// file (the mapping lives as long as any tensor viewing it); tensors sharing a storage in
// the file share one at::Storage (tied weights stay tied); casts (--dtype) and tensors
// assembled from pieces own their memory.
//
// Errors: fsdpshard::InputError (bad input or options: the CLI's exit-2 messages, word
// for word) and fsdpshard::RuntimeFailure (I/O failures), both std::runtime_error.
// Link: find_package(fsdpshard) then target_link_libraries(app PRIVATE fsdpshard::torch).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fsdpshard/util/error.h"

namespace fsdpshard::libtorch {

// Ordered (name, tensor) pairs: a state dict in its file's order.
using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

// One --include or --exclude rule; rules apply in the order given, as on the CLI.
struct NameFilter {
  bool include = true;
  std::string pattern;  // glob ('*', '?') over the whole name, or 're:<RE2 regex>' found in it
};

struct LoadOptions {
  // --from: "auto" (fsdp_best_state.model, best_state.model, an exported best_state, a
  // plain state dict), or a dotted path ("ema.state.model"; "" for the whole file).
  std::string from = "auto";
  std::vector<NameFilter> filters;   // --include / --exclude, in order
  std::vector<std::string> renames;  // --rename 'REGEX=>REPLACEMENT', in order
  std::string dtype = "keep";        // --dtype: keep | float16 | bfloat16 | float32
  bool allow_empty = false;          // --allow-empty
  // Where the tensors go; nullopt or CPU keeps the zero-copy views. Another device gets
  // one copy per storage (sharing kept).
  std::optional<c10::Device> device;
  // Views of the file may be written in place (copy-on-write pages private to this
  // process: the file never changes). false maps it read-only: a write faults.
  bool writable_views = true;
};

struct LoadedCheckpoint {
  TensorList tensors;                   // selected, renamed and cast, in the file's order
  std::optional<std::string> cfg_yaml;  // xp.cfg as YAML text (OmegaConf.to_yaml form)
  std::string source;                   // the state dict read ("best_state.model"; "" = whole file)
};

// Opens `path` as the CLI does (torch.save file of any AudioCraft layout, .safetensors
// file, shard set by index or folder; with a per-rank `from` such as "model", an FSDP
// run's rank files, reassembled as gather does) and selects with the CLI's rules.
LoadedCheckpoint load(const std::string& path, const LoadOptions& options = {});

struct SaveOptions {
  bool overwrite = false;  // replace an existing file (else InputError, as without --force)
  // safetensors only: "__metadata__" entries, in this order.
  std::vector<std::pair<std::string, std::string>> metadata{{"format", "pt"}};
};

// Writes `state_dict` as torch.save(collections.OrderedDict(...)) would: a zip archive
// that torch.load(weights_only=True) reads, tensors keeping their sizes, strides, storage
// offsets and shared storages. Atomic (a temporary file renamed into place), streamed,
// CRC-checked by torch.load. Tensors on other devices are copied to the CPU first.
void save(const std::string& path, const TensorList& state_dict, const SaveOptions& options = {});

// Writes `state_dict` as a .safetensors file (each tensor's values, contiguous; the format
// has no shared storages, so tied tensors are written once per name).
void save_safetensors(const std::string& path, const TensorList& state_dict, const SaveOptions& options = {});

}  // namespace fsdpshard::libtorch
