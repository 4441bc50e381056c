// gather --to safetensors: one .safetensors file with xp.cfg (as YAML) in its metadata.
// safetensors cannot share storages: tied names are dropped and recorded in the metadata,
// as huggingface_hub does (fsdpshard/plan/tied_names.h).
#include <map>

#include "formats/cfg_output.h"
#include "formats/safetensors_output.h"
#include "formats/single_file_output.h"
#include "fsdpshard/formats/file_encoding.h"

namespace fsdpshard {
namespace {

class SafetensorsFileFormat : public OutputFormat {
 public:
  SafetensorsFileFormat()
      : OutputFormat("safetensors", FormatOption::GatherTo, OutputKind::File,
                     "a .safetensors file (tied names dropped and recorded, as huggingface_hub does)") {}

  PlannedJob plan(const FormatRequest& request) const override {
    const TransferOptions& options = request.options;
    const SelectedSource& in = *request.source;
    std::vector<Selected> selected = in.selected;
    // An FSDP set's reassembled parameters have a storage each: nothing of them is tied.
    const TiedNames tied = drop_tied_names(in.source, selected, options.input);
    selected = tied.kept;
    const OutputState state = build_output_state(in.checkpoint, in.source, selected);
    const PreparedCfg cfg = prepare_cfg(in.checkpoint, options.edits, CfgFormat::Yaml);

    PlannedJob job = single_file_job(in, options);
    PlannedFile& file = job.plan.files.front();
    file.encoding = raw_bytes_encoding();
    std::vector<std::pair<std::string, std::string>> entries{{"format", "pt"}};
    if (cfg.node != kNoNode) entries.emplace_back("xp.cfg", cfg.yaml_after);
    record_dropped_names(entries, tied);
    const std::map<std::string, std::string> metadata(entries.begin(), entries.end());
    file.header = safetensors_file_plan(state, metadata, in.source.path, file.records);
    describe_gather(job, in, options, name(), state, tied, cfg);
    return job;
  }
};

}  // namespace

const OutputFormat& safetensors_file_format() {
  static const SafetensorsFileFormat format;
  return format;
}

}  // namespace fsdpshard
