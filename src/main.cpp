// fsdpshard command line: CLI11 wiring only; the commands live in src/commands/.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <sstream>

#include "cli/metadata_option.h"
#include "cli/transfer_options.h"
#include "execute/rank0_only.h"
#include "execute/run_plan.h"
#include "fsdpshard/commands/commands.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/formats/registry.h"
#include "util/size.h"

using namespace fsdpshard;

namespace {

constexpr const char* kDescription =
    "fsdpshard: convert PyTorch / AudioCraft (MusicGen) checkpoints across the FSDP boundary\n"
    "without executing them. Runs as one process or under mpirun / srun.";

// What --force replaces, exactly (README "Safety"; fsdpshard/archive/output_paths.h).
constexpr const char* kForceFile =
    "Replace an existing regular file at -o (through a symbolic link: its target; mode and owner are kept). "
    "Never an input, a folder, a device, a FIFO or a socket";
constexpr const char* kForceFolder =
    "Replace an existing -o folder only if it is empty or a previous fsdpshard output and nothing else: a shard "
    "index (pytorch_model.bin.index.json or model.safetensors.index.json) with all its k-of-N shard files and "
    "optionally config.yaml, or FSDP rank files NAME, NAME.1, ... (torch.save zips). Only those files are "
    "removed; a folder that is, or holds, an input is refused";

// The names `option` accepts (the registry's formats for it, in its order).
std::vector<std::string> format_names(FormatOption option) {
  std::vector<std::string> names;
  for (const OutputFormat* format : output_formats_for(option)) names.push_back(format->name());
  return names;
}

// --help of an option naming formats: "training: ...; export: ..." (gather --to), or
// "torch (...) | safetensors (...)" (reshard --format).
std::string formats_help(FormatOption option) {
  std::string help;
  for (const OutputFormat* format : output_formats_for(option)) {
    if (option == FormatOption::GatherTo) {
      help += (help.empty() ? "" : "; ") + format->name() + ": " + format->description();
    } else {
      help += (help.empty() ? "" : " | ") + format->name() + " (" + format->description() + ")";
    }
  }
  return help;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "fsdpshard"};
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 runtime failure, 2 bad input or usage. See README.md for examples.");
  // Usage errors (--shards 0, a missing value) in the tool's one-line form, exit 2 below.
  app.failure_message(
      [](const CLI::App*, const CLI::Error& e) { return "fsdpshard: error: " + std::string(e.what()) + "\n"; });

  InspectOptions inspect;
  CLI::App* inspect_cmd = app.add_subcommand("inspect", "Show what a checkpoint holds (layout, state dicts, cfg, globals)");
  inspect_cmd->add_option("CKPT", inspect.path, "Any input: torch.save file, .safetensors file, shard set (folder or *.index.json), FSDP run folder")->required();
  inspect_cmd->add_flag("--json", inspect.json, "One JSON object (schema in README.md)");
  inspect_cmd->add_flag("--tensors", inspect.tensors, "List every tensor: name, dtype, shape, bytes, record");
  inspect_cmd->add_flag("--cfg", inspect.cfg, "Print xp.cfg as YAML (as OmegaConf.to_yaml)");
  inspect_cmd->add_flag("--scan", inspect.scan,
                        "Only check whether torch.load(weights_only=False) of CKPT could run code: exit 0 clean, "
                        "1 globals that can run code (or tensors torch.save would not write), 2 unreadable");

  CfgOptions cfg;
  cli::TransferFlags cfg_flags;
  CLI::App* cfg_cmd = app.add_subcommand("cfg", "Print xp.cfg as YAML, or write a copy with xp.cfg edited");
  cfg_cmd->add_option("CKPT", cfg.path, "Any input to print xp.cfg from; a torch.save file for -o / --in-place")->required();
  cli::add_cfg_edit_options(*cfg_cmd, cfg.edits, cfg_flags);
  cfg_cmd->add_option("-o,--output", cfg.output, "Write the edited checkpoint here");
  cfg_cmd->add_flag("--in-place", cfg.in_place,
                    "Replace CKPT atomically (a symbolic link is kept and its target replaced; mode and owner kept)");
  cfg_cmd->add_flag("--force", cfg.force, kForceFile);
  cli::add_allow_global_option(*cfg_cmd, cfg.allowed_globals);

  TransferOptions gather;
  gather.format = default_output_format(FormatOption::GatherTo).name();
  cli::TransferFlags gather_flags;
  CLI::App* gather_cmd =
      app.add_subcommand("gather", "Gather a state dict (default: the FSDP best state) into one checkpoint");
  gather_cmd->add_option("CKPT", gather.input, "Input checkpoint (rank 0's checkpoint.th for FSDP runs)")->required();
  gather_cmd->add_option("-o,--output", gather.output, "Output file")->required();
  gather_cmd
      ->add_option("--to", gather.format, formats_help(FormatOption::GatherTo))
      ->check(CLI::IsMember(format_names(FormatOption::GatherTo)))
      ->capture_default_str();
  gather_cmd->add_option("--keep", gather.keep, "Also copy this top-level entry (--to training), e.g. xp.sig, history")
      ->type_name("KEY")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  gather_cmd->add_option("--version-string", gather.version_string,
                         "--to export: 'version' when the input has no string 'version' of its own (which is "
                         "kept); default: the latest AudioCraft release, whose export_lm writes it")
      ->capture_default_str();
  gather_cmd->add_option("--shapes-from", gather.shapes_from,
                         "FSDP rank files: take full parameter shapes from this state dict (default: rank 0's "
                         "fsdp_best_state.model)");
  gather_cmd->add_option("--fsdp-units", gather.fsdp_units,
                         "FSDP rank files: regexes matching the name prefixes of FSDP units, e.g. "
                         "'transformer\\.layers\\.[0-9]+\\.' (default: AudioCraft's condition_provider + "
                         "transformer.layers.<i>; the rest is the root unit)")
      ->type_name("REGEX")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cli::add_selection_options(*gather_cmd, gather, gather_flags);
  cli::add_cfg_edit_options(*gather_cmd, gather.edits, gather_flags);
  cli::add_common_options(*gather_cmd, gather, gather_flags);
  gather_cmd->get_option("--force")->description(kForceFile);

  TransferOptions reshard;
  reshard.format = default_output_format(FormatOption::ReshardFormat).name();
  cli::TransferFlags reshard_flags;
  std::string reshard_writers = "all", max_shard_size;
  std::vector<std::string> reshard_metadata;
  CLI::App* reshard_cmd = app.add_subcommand(
      "reshard", "Split a state dict into shard files + index as huggingface_hub's save_torch_state_dict "
                 "writes them (torch or safetensors) and config.yaml, or an "
                 "FSDP run's rank files into rank files for another world size (--world M)");
  reshard_cmd->add_option("CKPT", reshard.input, "Input checkpoint")->required();
  reshard_cmd->add_option("-o,--output", reshard.output, "Output folder (appears complete or not at all)")->required();
  auto* shards_opt = reshard_cmd->add_option("--shards", reshard.shards,
                                              "Number of files, bytes balanced (fsdpshard's extension; same names "
                                              "and index as huggingface_hub)")
                         ->check(CLI::Range(1, 99999));
  auto* size_opt = reshard_cmd->add_option("--max-shard-size", max_shard_size,
                                            "Largest file, split exactly as huggingface_hub's save_torch_state_dict "
                                            "(names, grouping, index): 5GB, 500MB (decimal, as huggingface_hub), "
                                            "1.5GiB (binary) or bytes");
  reshard_cmd->add_option("--metadata", reshard_metadata,
                          "KEY=VALUE into the index's metadata (a single safetensors file: its header), as "
                          "save_torch_state_dict(metadata=...); repeatable")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  shards_opt->excludes(size_opt);
  reshard_cmd->add_option("--format", reshard.format, formats_help(FormatOption::ReshardFormat))
      ->check(CLI::IsMember(format_names(FormatOption::ReshardFormat)))
      ->capture_default_str();
  reshard_cmd->add_option("--writers", reshard_writers,
                          "all: files spread over the ranks; rank0: rank 0 writes every file")
      ->check(CLI::IsMember({"all", "rank0"}))
      ->capture_default_str();
  reshard_cmd
      ->add_option("--world", reshard.world, default_output_format(FormatOption::ReshardWorld).description())
      ->type_name("M")
      ->check(CLI::Range(1, 65536))
      ->excludes(shards_opt)
      ->excludes(size_opt);
  reshard_cmd->add_option("--shapes-from", reshard.shapes_from,
                          "--world: take full parameter shapes from this state dict (default: rank 0's "
                          "fsdp_best_state.model)");
  reshard_cmd->add_option("--fsdp-units", reshard.fsdp_units,
                          "--world: regexes matching the name prefixes of FSDP units (default: AudioCraft's "
                          "condition_provider + transformer.layers.<i>; the rest is the root unit)")
      ->type_name("REGEX")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cli::add_selection_options(*reshard_cmd, reshard, reshard_flags);
  cli::add_cfg_edit_options(*reshard_cmd, reshard.edits, reshard_flags);
  cli::add_common_options(*reshard_cmd, reshard, reshard_flags);
  reshard_cmd->get_option("--force")->description(kForceFolder);

  VerifyOptions verify;
  CLI::App* verify_cmd = app.add_subcommand(
      "verify", "Compare two checkpoints, safetensors files or shard sets: names, dtypes, shapes, values, xp.cfg");
  verify_cmd->add_option("A", verify.a, "Checkpoint, .safetensors file, shard set (folder or *.index.json), or FSDP run folder (with a per-rank --from)")
      ->required();
  verify_cmd->add_option("B", verify.b, "The same kinds as A")->required();
  verify_cmd->add_flag("--json", verify.json, "One JSON object (schema in README.md)");
  verify_cmd->add_flag("--crc", verify.crc, "Also check every zip record's CRC-32 (torch.load never does)");
  verify_cmd->add_option("--rtol", verify.rtol, "Relative tolerance: compare in float64, dtypes may differ (integer and bool tensors "
                         "still compare exactly)");
  verify_cmd->add_option("--atol", verify.atol, "Absolute tolerance: compare in float64, dtypes may differ (integer and bool tensors "
                         "still compare exactly)");
  verify_cmd->add_option("--from", verify.from, "State dict of torch checkpoints: auto or a dotted path, as gather")
      ->capture_default_str();
  verify_cmd->add_flag("--ignore-cfg", verify.ignore_cfg, "Do not compare xp.cfg / config.yaml");
  verify_cmd->add_option("--backend", verify.backend, "auto | local | mpi | nccl")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Under mpirun every rank parses the same line: rank 0 alone prints (rank0_only.h).
    std::ostringstream silenced;
    const int code = is_launched_non_zero_rank() ? app.exit(e, silenced, silenced) : app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*inspect_cmd) return run_on_rank0([&] { return run_inspect(inspect); });
    if (*cfg_cmd) {
      cli::finish_cfg_edits(cfg_flags, cfg.edits);
      cfg.format = cli::parse_cfg_format(cfg_flags.cfg_format);
      return run_on_rank0([&] { return run_cfg(cfg); });
    }
    if (*gather_cmd) {
      cli::finish_transfer_options(*gather_cmd, gather_flags, gather);
      return run_gather(gather);
    }
    if (*reshard_cmd) {
      cli::finish_transfer_options(*reshard_cmd, reshard_flags, reshard);
      if (reshard.world == 0 && reshard.shards == 0 && max_shard_size.empty()) {
        throw InputError("reshard needs --shards N, --max-shard-size SIZE or --world M");
      }
      if (!max_shard_size.empty()) reshard.max_shard_size = parse_size(max_shard_size, "--max-shard-size");
      reshard.metadata = cli::parse_shard_metadata(reshard_metadata);
      reshard.writers_rank0 = reshard_writers == "rank0";
      return run_reshard(reshard);
    }
    if (*verify_cmd) return run_verify(verify);
  } catch (const InputError&) {
    // Usage errors are alike on every rank: said once, by rank 0, under mpirun.
    if (is_launched_non_zero_rank()) return 2;
    return report_current_exception();
  } catch (...) {
    return report_current_exception();
  }
  return 2;
}
