// `fsdpshard cfg CKPT`: print xp.cfg as YAML, or write a copy of CKPT whose xp.cfg is
// edited (--set/--unset/--merge) and everything else is left exactly as it was.
#include <cstdio>
#include <filesystem>

#include "formats/cfg_output.h"
#include "formats/archive_copy.h"
#include "fsdpshard/archive/atomic_file.h"
#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/commands/commands.h"
#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/execute/executor.h"
#include "fsdpshard/torch_pickle/output_guard.h"
#include "fsdpshard/archive/output_paths.h"
#include "fsdpshard/source/open_source.h"

namespace fsdpshard {
namespace {

// Refuses, before any work, an output that cannot work or would replace an input.
void check_cfg_output(const CfgOptions& options) {
  if (options.in_place) {
    if (!options.output.empty()) throw InputError("give either -o OUT or --in-place, not both");
    return;  // the input itself, through its links (AtomicFile keeps them)
  }
  std::error_code ec;
  if (std::filesystem::equivalent(options.path, options.output, ec)) {
    throw InputError("-o " + options.output + " is the input; use --in-place to replace it");
  }
  check_output_path(options.output, OutputKind::File, options.force);
  std::vector<std::string> inputs = options.edits.merge_files;
  inputs.push_back(options.path);
  check_output_spares_inputs(options.output, OutputKind::File, inputs);
}

}  // namespace

int run_cfg(const CfgOptions& options) {
  install_cleanup_signal_handlers();
  const bool writes = !options.output.empty() || options.in_place;
  if (writes) check_cfg_output(options);
  const std::unique_ptr<Checkpoint> opened = open_source(options.path);
  Checkpoint& ckpt = *opened;
  if (!writes) {
    if (!options.edits.empty() || options.format != CfgFormat::Keep) {
      throw InputError("edits or --cfg-format need -o OUT or --in-place to say where to write");
    }
    const auto yaml = cfg_yaml_of(ckpt);
    if (!yaml) throw InputError(options.path + ": no xp.cfg in this checkpoint");
    std::fputs(yaml->c_str(), stdout);
    return 0;
  }
  if (!ckpt.is_torch_file()) {
    // The copy keeps every record of the input's archive but data.pkl: other inputs have
    // no archive to keep. Their writers take the same edits.
    throw InputError(options.path + ": cfg -o / --in-place rewrites a torch.save file, and this is " +
                     (ckpt.kind() == InputKind::Safetensors ? "a safetensors file" : "a shard set") +
                     "; write it with its xp.cfg edited by gather --to safetensors or reshard, which take the same "
                     "--set / --unset / --merge");
  }
  const std::string target = options.in_place ? options.path : options.output;
  if (ckpt.cfg() == kNoNode) throw InputError(options.path + ": no xp.cfg in this checkpoint");
  const PreparedCfg cfg = prepare_cfg(ckpt, options.edits, options.format);
  Graph& g = ckpt.graph();
  // Point the top-level 'xp.cfg' entry at the prepared node (the same node unless the
  // representation changed); every other entry is untouched.
  for (auto& [key, value] : g.at(ckpt.root()).entries) {
    if (g.is_str(key, "xp.cfg")) value = cfg.node;
  }
  const std::string pickle_bytes = pickle_output(g, ckpt.root(), ckpt.path(), target, options.allowed_globals);
  // Everything but data.pkl is copied as it is, through the executor like every output:
  // one process (cfg runs on rank 0 alone), the file replaced atomically.
  const Plan plan = plan_archive_copy(ckpt, pickle_bytes, target);
  auto local = make_communicator("local");
  ExecuteOptions execute_options;
  execute_options.overwrite = options.force || options.in_place;
  execute(plan, *local, execute_options);
  return 0;
}

}  // namespace fsdpshard
