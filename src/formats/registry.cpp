// The output formats: the one list of them. Each is defined in its own unit under
// src/formats/ and declared only here. Adding a format: its unit, plus its declaration
// and its entry below (docs/ARCHITECTURE.md, "Adding an output format").
#include "fsdpshard/formats/registry.h"

#include "fsdpshard/util/error.h"

namespace fsdpshard {

const OutputFormat& torch_training_format();         // torch_checkpoint.cpp
const OutputFormat& torch_export_format();           // torch_checkpoint.cpp
const OutputFormat& torch_state_dict_format();       // torch_checkpoint.cpp
const OutputFormat& safetensors_file_format();       // safetensors_file.cpp
const OutputFormat& torch_shard_set_format();        // shard_set.cpp
const OutputFormat& safetensors_shard_set_format();  // shard_set.cpp
const OutputFormat& fsdp_rank_files_format();        // fsdp_rank_files.cpp

const std::vector<const OutputFormat*>& output_formats() {
  // The first format of each option is its default; --help lists them in this order.
  static const std::vector<const OutputFormat*> formats{
      &torch_training_format(),  &torch_export_format(),          &torch_state_dict_format(),
      &safetensors_file_format(), &torch_shard_set_format(),       &safetensors_shard_set_format(),
      &fsdp_rank_files_format(),
  };
  return formats;
}

std::vector<const OutputFormat*> output_formats_for(FormatOption option) {
  std::vector<const OutputFormat*> offered;
  for (const OutputFormat* format : output_formats()) {
    if (format->option() == option) offered.push_back(format);
  }
  return offered;
}

const OutputFormat& default_output_format(FormatOption option) {
  const auto offered = output_formats_for(option);
  if (offered.empty()) throw std::logic_error(std::string("no output format for ") + option_flag(option));
  return *offered.front();
}

const OutputFormat& find_output_format(FormatOption option, const std::string& name) {
  const auto offered = output_formats_for(option);
  std::string choices;
  for (const OutputFormat* format : offered) {
    if (format->name() == name) return *format;
    choices += (choices.empty() ? "" : ", ") + format->name();
  }
  throw InputError(std::string(option_flag(option)) + " " + name + ": no such output format (choices: " + choices + ")");
}

}  // namespace fsdpshard
