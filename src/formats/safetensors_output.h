// The plan of a .safetensors output: its header and one record per tensor.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fsdpshard/formats/output_state.h"

namespace fsdpshard {

// Returns the file's leading bytes (u64 length + JSON header) and fills `records` with
// each tensor's bytes in header order. safetensors has no strides and no sharing, so
// every tensor is written compact; a non-contiguous tensor is an InputError.
std::string safetensors_file_plan(const OutputState& state, const std::map<std::string, std::string>& metadata,
                                  const std::string& source_path, std::vector<PlannedRecord>& records);

}  // namespace fsdpshard
