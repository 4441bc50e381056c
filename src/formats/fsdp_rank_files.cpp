// `reshard --world M`, on the per-rank files of an AudioCraft FSDP run: M new rank files
// (checkpoint.th, checkpoint.th.1, …) in the flat-parameter layout FSDP uses at world size
// M (docs/FORMATS.md §6), so that M ranks with the same FSDP set-up resume.
// Re-laid out: `model`, `best_state.model`, `ema.state.model` and the optimizer's
// per-element state (Adam's exp_avg, exp_avg_sq); everything else comes from rank 0's file.
#include <filesystem>
#include <map>

#include "formats/cfg_output.h"
#include "formats/fsdp_rank_output.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/formats/file_encoding.h"
#include "fsdpshard/formats/output_format.h"
#include "fsdpshard/torch_pickle/output_guard.h"
#include "util/format.h"

namespace fsdpshard {
namespace {

namespace fs = std::filesystem;

// The per-rank state dicts AudioCraft saves (docs/FORMATS.md §5, §6); model is required.
const char* const kStates[] = {"model", "best_state.model", "ema.state.model"};

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> keys;
  std::size_t start = 0;
  for (std::size_t dot; (dot = dotted.find('.', start)) != std::string::npos; start = dot + 1) {
    keys.push_back(dotted.substr(start, dot - start));
  }
  keys.push_back(dotted.substr(start));
  return keys;
}

struct Relaid {
  ShardedState state;           // old layout, self-checked against every rank's pieces
  std::vector<FlatUnit> units;  // new layout (same units, same order)
  // The model's own pieces are views into one storage per FSDP unit (the rank's shard of
  // the flat parameter); copies (best_state, ema) have a storage each. Outputs keep the kind.
  bool shared = false;
};

bool pieces_share_storage(const ShardedState& s) {
  for (const StateDict& sd : s.per_rank) {
    std::map<std::string, int> uses;
    for (const NamedTensor& t : sd.tensors) {
      if (t.tensor.numel() > 0 && ++uses[t.tensor.storage.key] > 1) return true;
    }
  }
  return false;
}

std::vector<TensorRef> pieces_of(const ShardedState& s, std::size_t i) {
  std::vector<TensorRef> out;
  for (std::size_t r = 0; r < s.per_rank.size(); ++r) out.push_back(s.piece(i, static_cast<int>(r)).tensor);
  return out;
}

// The state dict at `relaid` for new rank out.rank(), a mapping of rank 0's kind.
NodeId relayout_state(RankOutput& out, const Relaid& relaid) {
  const ShardedState& s = relaid.state;
  Graph& g = out.context().g;
  const int rank = out.rank();
  std::vector<NodeId> shard_pid(relaid.units.size(), kNoNode), empty_pid(relaid.units.size(), kNoNode);
  if (relaid.shared) {
    for (std::size_t u = 0; u < relaid.units.size(); ++u) {
      const FlatUnit& unit = relaid.units[u];
      const DType dtype = s.dtypes[unit.params.front()];
      for (std::size_t p : unit.params) {
        if (s.dtypes[p] != dtype) throw InputError(s.path + ": FSDP unit '" + unit.name + "' mixes dtypes");
      }
      PlannedRecord r;
      r.source_dtype = r.dtype = dtype;
      bool holds = false;
      for (const ShardRun& run : shard_runs(unit, rank)) {
        if (run.padding) {
          r.add_zeros(run.count);  // FSDP pads with zeros; nothing reads these elements
          continue;
        }
        holds = true;
        out.add_param_runs(r, s.units[u], run.k, pieces_of(s, unit.params[run.k]), run.param_offset, run.count);
      }
      if (holds) shard_pid[u] = out.add_storage(std::move(r));
    }
  }
  std::vector<std::pair<NodeId, NodeId>> entries;
  for (std::size_t i = 0; i < s.names.size(); ++i) {
    const std::size_t u = s.unit_of[i];
    const FlatPiece piece = relaid.units[u].piece(s.position[i], rank);
    NodeId node;
    if (relaid.shared && piece.count > 0) {
      node = out.tensor(shard_pid[u], s.dtypes[i], piece.shard_offset, piece.count);
    } else if (relaid.shared) {
      // As FSDP does: the unit's parameters this rank holds nothing of share one empty storage.
      if (empty_pid[u] == kNoNode) {
        PlannedRecord r;
        r.source_dtype = r.dtype = s.dtypes[i];
        empty_pid[u] = out.add_storage(std::move(r));
      }
      node = out.tensor(empty_pid[u], s.dtypes[i], 0, 0);
    } else {
      PlannedRecord r;
      r.source_dtype = r.dtype = s.dtypes[i];
      if (piece.count > 0) {
        out.add_param_runs(r, s.units[u], s.position[i], pieces_of(s, i), piece.param_offset, piece.count);
      }
      node = out.tensor(out.add_storage(std::move(r)), s.dtypes[i], 0, piece.count);
    }
    entries.emplace_back(s.per_rank[0].tensors[i].key, node);
  }
  Node mapping = g.at(s.per_rank[0].mapping);  // same class (dict, OrderedDict + _metadata)
  mapping.entries = std::move(entries);
  return g.add(std::move(mapping));
}

void check_options(const TransferOptions& o) {
  if (o.shards > 0 || o.max_shard_size > 0) throw InputError("--world cannot be combined with --shards / --max-shard-size");
  // Rank files are torch.save files; only --format's default agrees with that.
  if (!o.format.empty() && o.format != "torch") throw InputError("--world writes torch rank files; --format safetensors does not apply");
  if (!o.selection.filters.empty() || !o.selection.renames.empty() || o.selection.dtype) {
    throw InputError("--world re-lays out every parameter for a resumable run; --include/--exclude/--rename/--dtype "
                     "do not apply");
  }
  if (o.from != "auto") throw InputError("--world re-lays out model, best_state, ema and optimizer; --from does not apply");
}

// New storage keys start past rank 0's, so tensors passed through keep theirs.
uint64_t first_free_key(const Checkpoint& rank0) {
  uint64_t next = 0;
  for (const ZipRecord& record : rank0.archive().records()) {
    if (record.name.rfind("data/", 0) != 0) continue;
    const std::string key = record.name.substr(5);
    if (!key.empty() && key.find_first_not_of("0123456789") == std::string::npos && key.size() < 19) {
      next = std::max<uint64_t>(next, std::stoull(key) + 1);
    }
  }
  return next;
}

// The plan every rank derives alike; `ranks` (the job's size) picks the writers.
PlannedJob plan_rank_files(const TransferOptions& o, int ranks) {
  check_options(o);
  if (o.world < 1) throw InputError("--world must be at least 1");
  FsdpRankFiles files = open_rank_files(o.input);
  for (const auto& ckpt : files.ranks) {
    if (!ckpt->is_torch_file()) throw InputError(ckpt->path() + ": not a torch.save rank file");
  }
  std::error_code ec;
  const fs::path input_folder = fs::path(files.paths[0]).parent_path().empty() ? fs::path(".")
                                                                                : fs::path(files.paths[0]).parent_path();
  if (fs::equivalent(input_folder, o.output, ec)) throw InputError("-o " + o.output + " is the input's folder; write elsewhere");

  for (const auto& rank : files.ranks) refuse_irregular_tensors(*rank);
  Checkpoint& rank0 = *files.ranks[0];
  Graph& g = rank0.graph();
  const FsdpOptions fsdp{o.shapes_from, o.fsdp_units};
  std::vector<std::pair<std::string, Relaid>> relaid;
  for (const char* path : kStates) {
    const NodeId at = g.get_path(rank0.root(), path);
    if (std::string(path) != "model" && (at == kNoNode || !g.is_mapping(at) || g.at(at).entries.empty())) continue;
    Relaid r;
    r.state = open_sharded_state(files, path, fsdp);
    r.units = fsdp_layout(r.state.names, r.state.numels, r.state.rules, o.world, r.state.alignment);
    r.shared = pieces_share_storage(r.state);
    relaid.emplace_back(path, std::move(r));
  }
  const Relaid& model = relaid.front().second;

  PreparedCfg cfg;
  if (rank0.cfg() != kNoNode || !o.edits.empty()) cfg = prepare_cfg(rank0, o.edits, o.cfg_format);

  RelayoutContext ctx{files, g, first_free_key(rank0), {}};
  const std::string base = fs::path(files.paths[0]).filename().string();
  const NodeId fsdp_best = g.get(rank0.root(), "fsdp_best_state");
  PlannedJob job;
  job.plan.inputs = files.paths;
  job.plan.output = o.output;
  job.plan.single_file = false;
  std::string listing;
  for (int rank = 0; rank < o.world; ++rank) {
    RankOutput out(ctx, rank);
    NodeId root = rank0.root();
    for (const auto& [path, r] : relaid) root = with_path(g, root, split_path(path), relayout_state(out, r));
    const NodeId optimizer = relayout_optimizer(out, model.state, model.units);
    if (optimizer != kNoNode) root = with_path(g, root, {"optimizer"}, optimizer);
    // AudioCraft: the gathered best state on rank 0 only, {'model': {}} on the others.
    if (rank > 0 && fsdp_best != kNoNode) root = with_path(g, root, {"fsdp_best_state"}, g.dict({{ctx.str("model"), g.dict()}}));
    if (cfg.node != kNoNode) root = with_path(g, root, {"xp.cfg"}, cfg.node);

    PlannedFile file;
    file.name = rank == 0 ? base : base + "." + std::to_string(rank);
    file.encoding = torch_zip_encoding();
    file.writer = rank % std::max(ranks, 1);
    file.archive_root = torch_archive_root(file.name);
    file.header = pickle_output(g, root, rank0.path(), o.output + "/" + file.name, o.allowed_globals);
    file.records = out.records_for(root);
    listing += "  " + file.name + ": " + std::to_string(file.records.size()) + " records, " +
               human_bytes(file.bytes()) + "\n";
    job.plan.files.push_back(std::move(file));
  }

  job.what = "resharded an FSDP run from world size " + std::to_string(files.world()) + " to " + std::to_string(o.world);
  std::string text = "source: " + std::to_string(files.world()) + " rank files (" + files.paths[0] +
                     (files.world() > 1 ? " … " + files.paths.back() : std::string()) + ")\n";
  for (const auto& [path, r] : relaid) {
    text += "re-laid out: " + path + " (" + std::to_string(r.state.names.size()) + " parameters, " +
            std::to_string(r.units.size()) + " FSDP units, alignment " + std::to_string(r.state.alignment) +
            " elements)\n";
  }
  text += std::string("optimizer: ") + (g.get(rank0.root(), "optimizer") != kNoNode ? "per-element state re-laid out\n" : "none\n");
  text += "output files (world size " + std::to_string(o.world) + "):\n" + listing;
  const std::string diff = yaml_diff(cfg.yaml_before, cfg.yaml_after);
  text += diff.empty() ? "xp.cfg: unchanged\n" : "xp.cfg changes:\n" + diff;
  job.dry_run_text = text;
  return job;
}

class FsdpRankFilesFormat : public OutputFormat {
 public:
  FsdpRankFilesFormat()
      : OutputFormat("fsdp-rank-files", FormatOption::ReshardWorld, OutputKind::Folder,
                     "FSDP rank files (CKPT = folder or rank 0's checkpoint.th of an AudioCraft FSDP run): write "
                     "checkpoint.th, checkpoint.th.1, ... for M ranks in FSDP's flat-parameter layout, with model, "
                     "best_state, ema and the Adam optimizer state re-laid out, so that M ranks resume") {}
  bool plans_from_selection() const override { return false; }
  PlannedJob plan(const FormatRequest& request) const override { return plan_rank_files(request.options, request.ranks); }
};

}  // namespace

const OutputFormat& fsdp_rank_files_format() {
  static const FsdpRankFilesFormat format;
  return format;
}

}  // namespace fsdpshard
