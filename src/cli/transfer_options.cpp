#include "cli/transfer_options.h"

#include "fsdpshard/util/error.h"
#include "util/size.h"

namespace fsdpshard::cli {
namespace {

CLI::Option* repeatable(CLI::Option* option, const char* type_name) {
  return option->type_name(type_name)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

}  // namespace

void add_selection_options(CLI::App& command, TransferOptions& options, TransferFlags& flags) {
  command
      .add_option("--from", options.from,
                  "State dict to read: auto | <dotted.path> such as fsdp_best_state.model, best_state.model, "
                  "model, ema.state.model (auto: fsdp_best_state.model if non-empty, else best_state.model, "
                  "else an exported best_state, else the file itself)")
      ->capture_default_str();
  flags.include_option = repeatable(
      command.add_option("--include", flags.includes, "Keep tensors matching PAT (glob, or re:<regex>); repeatable"),
      "PAT");
  flags.exclude_option = repeatable(
      command.add_option("--exclude", flags.excludes,
                         "Drop tensors matching PAT (glob, or re:<regex>); repeatable; --include and "
                         "--exclude apply in the order given"),
      "PAT");
  repeatable(command.add_option("--rename", flags.renames,
                                "Rename tensors: 'REGEX=>REPLACEMENT' (\\1 or $1 for groups); repeatable, in order"),
             "RULE");
  command.add_flag("--allow-empty", options.selection.allow_empty,
                   "Write an empty state dict when --include/--exclude leave no tensor (else exit 2)");
  command.add_option("--dtype", flags.dtype,
                     "Cast float64/32/16 and bfloat16 tensors, bit for bit as torch's .to() (float8 and "
                     "float4 ones stay): keep | float16 | bfloat16 | float32")
      ->check(CLI::IsMember(dtype_choices()))
      ->capture_default_str();
}

void add_cfg_edit_options(CLI::App& command, CfgEdits& edits, TransferFlags& flags) {
  repeatable(command.add_option("--set", flags.sets, "Set a cfg key: K=V, V typed as YAML (optim.lr=1e-5); repeatable"),
             "K=V");
  repeatable(command.add_option("--unset", edits.unsets, "Remove a cfg key (dataset.valid); repeatable"), "K");
  repeatable(command.add_option("--merge", edits.merge_files, "Deep-merge a YAML file into the cfg; repeatable"),
             "FILE.yaml")
      ->check(CLI::ExistingFile);
  command
      .add_option("--cfg-format", flags.cfg_format,
                  "Store xp.cfg as: dictconfig (omegaconf pickle) | yaml (text; loads with weights_only=True)")
      ->check(CLI::IsMember({"dictconfig", "yaml"}));
}

void add_common_options(CLI::App& command, TransferOptions& options, TransferFlags& flags) {
  command
      .add_option("--backend", options.backend,
                  "Transport: auto | local | mpi | nccl (auto: nccl under mpirun with GPUs, mpi under mpirun, "
                  "else local)")
      ->check(CLI::IsMember({"auto", "local", "mpi", "nccl"}))
      ->capture_default_str();
  command.add_option("--max-inflight", flags.max_inflight, "Bound on the bytes a rank buffers (e.g. 256MiB)")
      ->capture_default_str();
  command.add_flag("--force", options.force, "Overwrite an existing output");
  command.add_flag("--dry-run", options.dry_run, "Print the plan (ranks, output, cfg diff); write nothing");
  command
      .add_option("--progress", options.progress, "Progress bar: auto (when stderr is a terminal) | always | never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  command.add_flag("-q,--quiet", options.quiet, "No progress bar, no summary line");
  command.add_flag("--json", options.json,
                   "Also print one JSON object on stdout: bytes read, sent, received and written per rank "
                   "(schema in README.md); with --dry-run, the plan's figures instead of its table");
  add_allow_global_option(command, options.allowed_globals);
}

void add_allow_global_option(CLI::App& command, std::vector<std::string>& allowed) {
  repeatable(command.add_option("--allow-global", allowed,
                                "Write this Python global into the output although it can run code when torch.load "
                                "reads the output (e.g. posix.system); repeatable. WARNING: only for an input you "
                                "trust; without it such an output is refused (exit 2) and nothing is written"),
             "MODULE.NAME")
      ->check([](const std::string& name) {
        const auto dot = name.rfind('.');
        return dot == std::string::npos || dot == 0 || dot + 1 == name.size() ? "expected MODULE.NAME" : "";
      });
}

CfgFormat parse_cfg_format(const std::string& text) {
  if (text.empty()) return CfgFormat::Keep;
  return text == "yaml" ? CfgFormat::Yaml : CfgFormat::DictConfig;
}

void finish_cfg_edits(const TransferFlags& flags, CfgEdits& edits) {
  for (const auto& set : flags.sets) edits.sets.push_back(parse_set_argument(set));
}

void finish_transfer_options(const CLI::App& command, const TransferFlags& flags, TransferOptions& options) {
  // --include and --exclude interleave: walk the parse order to rebuild the sequence.
  std::size_t next_include = 0, next_exclude = 0;
  for (const CLI::Option* opt : command.parse_order()) {
    if (opt == flags.include_option && next_include < flags.includes.size()) {
      options.selection.filters.push_back({true, NamePattern(flags.includes[next_include++], "--include")});
    } else if (opt == flags.exclude_option && next_exclude < flags.excludes.size()) {
      options.selection.filters.push_back({false, NamePattern(flags.excludes[next_exclude++], "--exclude")});
    }
  }
  for (const auto& rule : flags.renames) options.selection.renames.emplace_back(rule);
  if (flags.dtype != "keep") options.selection.dtype = dtype_from_torch_name(flags.dtype);
  finish_cfg_edits(flags, options.edits);
  options.cfg_format = parse_cfg_format(flags.cfg_format);
  options.max_inflight = parse_size(flags.max_inflight, "--max-inflight");
  if (options.max_inflight < (4u << 20)) throw InputError("--max-inflight must be at least 4MiB");
}

}  // namespace fsdpshard::cli
