// The one place that says what kind of input a path is: a torch.save file, a .safetensors
// file (also without the extension, by content), a shard set (a folder holding one
// *.index.json or a lone model.safetensors / pytorch_model.bin, or the index file), or
// an FSDP run's per-rank files (a folder holding checkpoint.th, or a file named like a
// rank file). Names and first bytes only: nothing is parsed here.
#pragma once

#include <string>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {

struct RecognizedInput {
  InputKind kind = InputKind::TorchSave;
  // The file to open: the torch.save or safetensors file; a shard set's index, or its
  // lone file; an FSDP set's rank 0 file.
  std::string file;
  std::string folder;          // ShardSet: the folder its files are in
  bool lone_file = false;      // ShardSet: one file and no index
  // Safetensors: recognised by content (no zip magic, no .safetensors name), so a
  // failure to read it says that neither format fits.
  bool by_content = false;
};

// InputError naming `path` and what was expected when it is none of the above (a
// missing file, a folder with none of those files, a FIFO or device).
RecognizedInput recognize_input(const std::string& path);

// A file inside a set (a shard named by an index, a lone shard): torch.save by its zip
// magic, else safetensors.
RecognizedInput recognize_file(const std::string& path);

// Whether the file name is one AudioCraft gives a rank's checkpoint (checkpoint.th,
// checkpoint_12.th, checkpoint.th.3).
bool is_rank_file_name(const std::string& path);

// The message for `file`, recognised by content, that the safetensors reader refused
// with `why`: neither a torch.save archive nor a safetensors file.
std::string not_torch_nor_safetensors(const std::string& file, const InputError& why);

}  // namespace fsdpshard
