// gather --to training | export | state-dict: one torch.save file holding the selected
// state dict, laid out as AudioCraft (or plain torch.load) expects it. One unit for the
// three layouts: they differ only in the object around the state dict and its xp.cfg.
#include "formats/cfg_output.h"
#include "formats/single_file_output.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/formats/file_encoding.h"
#include "fsdpshard/torch_pickle/output_guard.h"

namespace fsdpshard {
namespace {

enum class TorchLayout { Training, Export, StateDict };

class TorchCheckpointFormat : public OutputFormat {
 public:
  TorchCheckpointFormat(TorchLayout layout, std::string name, std::string description)
      : OutputFormat(std::move(name), FormatOption::GatherTo, OutputKind::File, std::move(description)),
        layout_(layout) {}

  PlannedJob plan(const FormatRequest& request) const override {
    const TransferOptions& options = request.options;
    const SelectedSource& in = *request.source;
    Checkpoint& ckpt = in.checkpoint;
    const OutputState state = build_output_state(in.checkpoint, in.source, in.selected);
    const PreparedCfg cfg = cfg_of(ckpt, options);

    PlannedJob job = single_file_job(in, options);
    PlannedFile& file = job.plan.files.front();
    file.encoding = torch_zip_encoding();
    file.archive_root = torch_archive_root(file.name);
    file.header = pickle_output(ckpt.graph(), output_root(ckpt, options, state.mapping, cfg), ckpt.path(),
                                options.output, options.allowed_globals);
    file.records = state.storages;
    describe_gather(job, in, options, name(), state, TiedNames{}, cfg);
    return job;
  }

 private:
  // xp.cfg as the layout stores it: a training checkpoint as a DictConfig unless
  // --cfg-format says otherwise, an export as YAML text (what export_lm writes), a bare
  // state dict not at all (prepared only to report edits that have nowhere to go).
  PreparedCfg cfg_of(Checkpoint& ckpt, const TransferOptions& options) const {
    CfgFormat format = options.cfg_format;
    if (layout_ == TorchLayout::Training && format == CfgFormat::Keep) format = CfgFormat::DictConfig;
    if (layout_ == TorchLayout::Export) format = CfgFormat::Yaml;
    if (layout_ == TorchLayout::StateDict && options.edits.empty()) return {};
    return prepare_cfg(ckpt, options.edits, format);
  }

  // The top-level object of the file.
  NodeId output_root(Checkpoint& ckpt, const TransferOptions& options, NodeId state, const PreparedCfg& cfg) const {
    Graph& g = ckpt.graph();
    if (layout_ == TorchLayout::StateDict) return state;
    if (layout_ == TorchLayout::Export) {
      if (cfg.node == kNoNode) {
        throw InputError(ckpt.path() + ": no xp.cfg; an AudioCraft export needs one (use --to state-dict)");
      }
      NodeId version = g.get(ckpt.root(), "version");
      if (version == kNoNode || g.at(version).kind != NodeKind::Str) version = g.str(options.version_string);
      return g.dict({{g.str("best_state"), state},
                     {g.str("xp.cfg"), cfg.node},
                     {g.str("version"), version},
                     {g.str("exported"), g.boolean(true)}});
    }
    std::vector<std::pair<NodeId, NodeId>> entries;
    entries.emplace_back(g.str("best_state"), g.dict({{g.str("model"), state}}));
    entries.emplace_back(g.str("fsdp_best_state"), g.dict());
    if (cfg.node != kNoNode) entries.emplace_back(g.str("xp.cfg"), cfg.node);
    for (const std::string& key : options.keep) {
      if (key == "best_state" || key == "fsdp_best_state" || key == "xp.cfg") {
        throw InputError("--keep " + key + ": that entry is written by gather itself");
      }
      const NodeId value = g.get(ckpt.root(), key);
      if (value == kNoNode) throw InputError(ckpt.path() + ": --keep " + key + ": no such top-level entry");
      entries.emplace_back(g.str(key), value);
    }
    return g.dict(std::move(entries));
  }

  TorchLayout layout_;
};

}  // namespace

const OutputFormat& torch_training_format() {
  static const TorchCheckpointFormat format(TorchLayout::Training, "training",
                                            "{best_state: {model}, fsdp_best_state: {}, xp.cfg} for continue_from");
  return format;
}

const OutputFormat& torch_export_format() {
  static const TorchCheckpointFormat format(TorchLayout::Export, "export", "AudioCraft export_lm layout");
  return format;
}

const OutputFormat& torch_state_dict_format() {
  static const TorchCheckpointFormat format(TorchLayout::StateDict, "state-dict", "the state dict alone");
  return format;
}

}  // namespace fsdpshard
