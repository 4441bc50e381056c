// The subcommands, as functions the CLI (src/main.cpp) calls with parsed options.
// Each returns the process exit code; anticipated failures are thrown as InputError /
// RuntimeFailure and mapped to exit codes by the caller.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "fsdpshard/config/cfg.h"

namespace fsdpshard {

struct InspectOptions {
  std::string path;
  bool json = false;
  bool tensors = false;
  bool cfg = false;
  bool scan = false;  // --scan: exit 0 clean, 1 globals that can run code (or irregular tensors), 2 unreadable
};
int run_inspect(const InspectOptions& options);

enum class CfgFormat { Keep, DictConfig, Yaml };

struct CfgOptions {
  std::string path;
  CfgEdits edits;
  std::string output;     // empty: print YAML to stdout
  bool in_place = false;
  bool force = false;
  CfgFormat format = CfgFormat::Keep;
  std::vector<std::string> allowed_globals;  // --allow-global MODULE.NAME (output_guard.h)
};
int run_cfg(const CfgOptions& options);

}  // namespace fsdpshard

#include <optional>

#include "fsdpshard/plan/selection.h"

namespace fsdpshard {

// The latest AudioCraft release (PyPI `audiocraft` 1.3.0, tag v1.3.0): what `export_lm`
// of that release writes as 'version' (its own __version__; main says 1.4.0a2).
inline constexpr const char* kAudiocraftRelease = "1.3.0";

// Options of gather and reshard. The output format is named by `format` (gather --to,
// reshard --format) or chosen by `world` (reshard --world M), and found in
// fsdpshard/formats/registry.h; the fields below `format` are read only by the formats
// their options are for.
struct TransferOptions {
  std::string input;
  std::string output;
  std::string from = "auto";
  SelectionOptions selection;
  CfgEdits edits;
  CfgFormat cfg_format = CfgFormat::Keep;
  std::string backend = "auto";
  uint64_t max_inflight = 256ull << 20;
  bool force = false;
  bool dry_run = false;
  bool quiet = false;
  std::string progress = "auto";  // auto | always | never
  bool json = false;
  // FSDP per-rank files (--from model etc. on checkpoint.th + checkpoint.th.N):
  std::string shapes_from;               // --shapes-from REF: full shapes (default: fsdp_best_state)
  std::vector<std::string> fsdp_units;   // --fsdp-units REGEX…: wrap policy (default: AudioCraft's)
  std::vector<std::string> allowed_globals;  // --allow-global MODULE.NAME (output_guard.h)

  std::string format;  // gather --to / reshard --format: a format's name

  // gather --to training: top-level keys passed through (--keep).
  std::vector<std::string> keep;
  // gather --to export: 'version' when the input has none (--version-string).
  std::string version_string = kAudiocraftRelease;
  // reshard shard sets:
  int shards = 0;                 // --shards N (0: use max_shard_size)
  uint64_t max_shard_size = 0;    // --max-shard-size SIZE in bytes
  bool writers_rank0 = false;     // --writers rank0
  // --metadata KEY=VALUE, in order: into the index's "metadata" (or a single safetensors
  // file's header), as huggingface_hub's save_torch_state_dict(metadata=...).
  std::vector<std::pair<std::string, std::string>> metadata;
  // reshard --world M: FSDP rank files for M ranks (0: a shard set).
  int world = 0;
};
int run_gather(const TransferOptions& options);
int run_reshard(const TransferOptions& options);

}  // namespace fsdpshard

namespace fsdpshard {

// `fsdpshard verify A B`: A and B are torch.save checkpoints, .safetensors files or shard
// sets (a folder holding *.index.json, or the index file). Exit 0 equal, 1 different,
// 2 bad input (a record failing its CRC-32 check included).
struct VerifyOptions {
  std::string a;
  std::string b;
  std::string from = "auto";  // state dict of torch checkpoints, as gather's --from
  bool json = false;
  bool crc = false;           // also check every zip record's CRC-32
  bool ignore_cfg = false;
  std::optional<double> rtol;  // either given: compare in float64 within tolerance
  std::optional<double> atol;
  std::string backend = "auto";
};
int run_verify(const VerifyOptions& options);

}  // namespace fsdpshard
