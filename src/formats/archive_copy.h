// The output of `cfg -o / --in-place`: a copy of a torch.save archive with a new data.pkl.
// Every other record keeps its name, place, bytes and CRC-32 (so a corrupt input record
// stays detectably corrupt), the data keeps the input's alignment (torch 2.7+ computes
// storage offsets from it) and the archive its root folder. Records the input stores
// deflated are written stored, inflated.
#pragma once

#include <string>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/plan/plan.h"

namespace fsdpshard {

// The single-file plan writing that copy of `ckpt` (a torch.save file) to `output`, with
// `pickle` as its data.pkl. InputError for an input that is not a torch.save file or
// whose '.storage_alignment' is not an alignment.
Plan plan_archive_copy(const Checkpoint& ckpt, const std::string& pickle, const std::string& output);

}  // namespace fsdpshard
