// Command-line options shared by gather and reshard: selection, cfg edits, transport.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "fsdpshard/commands/commands.h"

namespace fsdpshard::cli {

// Raw option values as CLI11 fills them; turned into TransferOptions after parsing.
struct TransferFlags {
  std::vector<std::string> includes, excludes, renames, sets;
  std::string dtype = "keep";
  std::string cfg_format;
  std::string max_inflight = "256MiB";
  CLI::Option* include_option = nullptr;
  CLI::Option* exclude_option = nullptr;
};

void add_selection_options(CLI::App& command, TransferOptions& options, TransferFlags& flags);
void add_cfg_edit_options(CLI::App& command, CfgEdits& edits, TransferFlags& flags);
void add_common_options(CLI::App& command, TransferOptions& options, TransferFlags& flags);
// --allow-global MODULE.NAME (repeatable), for every command that writes a torch.save file.
void add_allow_global_option(CLI::App& command, std::vector<std::string>& allowed);

// Completes `options` from `flags` after parsing (filters in command-line order, sizes,
// dtype, --set). InputError on bad values.
void finish_transfer_options(const CLI::App& command, const TransferFlags& flags, TransferOptions& options);
void finish_cfg_edits(const TransferFlags& flags, CfgEdits& edits);
CfgFormat parse_cfg_format(const std::string& text);

}  // namespace fsdpshard::cli
