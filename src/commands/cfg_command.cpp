// `fsdpshard cfg CKPT`: print xp.cfg as YAML, or write a copy of CKPT whose xp.cfg is
// edited (--set/--unset/--merge) and everything else is left exactly as it was.
#include <cstdio>
#include <filesystem>

#include "commands/cfg_output.h"
#include "fsdpshard/atomic_file.h"
#include "fsdpshard/checkpoint.h"
#include "fsdpshard/commands.h"
#include "fsdpshard/error.h"
#include "fsdpshard/output_guard.h"
#include "fsdpshard/output_paths.h"
#include "fsdpshard/source/open_source.h"
#include "fsdpshard/zip_writer.h"

namespace fsdpshard {
namespace {

// The data alignment the copy must keep: what the input's '.storage_alignment' says
// (torch 2.7+; torch.load computes storage offsets from it), else torch's 64.
uint64_t storage_alignment_of(const ZipReader& in) {
  const ZipRecord* record = in.find(kStorageAlignmentRecord);
  if (!record) return ZipWriterOptions{}.alignment;
  const std::string text = record->size <= 16 ? in.read(*record) : std::string("(") + std::to_string(record->size) + " bytes)";
  uint64_t value = 0;
  bool digits = !text.empty();
  for (char c : text) {
    if (c < '0' || c > '9' || value > kMaxAlignment) {
      digits = false;
      break;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!digits || value < 1 || value > kMaxAlignment) {
    throw InputError(in.path() + ": record '.storage_alignment' holds '" + text + "', not an alignment in 1.." +
                     std::to_string(kMaxAlignment));
  }
  return value;
}

// Copies every record of `ckpt` except data.pkl, which is replaced by `pickle_bytes`.
// Records keep their names, order and bytes (torch 2.x's '.format_version',
// '.storage_alignment', '.data/serialization_id' included), the data its alignment, and
// the archive its root folder.
void copy_with_new_pickle(const Checkpoint& ckpt, const std::string& pickle_bytes, AtomicFile& out) {
  const ZipReader& in = ckpt.archive();
  ZipWriterOptions options;
  options.alignment = storage_alignment_of(in);
  options.label = out.target();
  ZipWriter zip(out.fd(), in.root(), options);
  std::vector<char> buffer(16u << 20);
  for (const ZipRecord& record : in.records()) {
    if (record.name == "data.pkl") {
      zip.add("data.pkl", pickle_bytes);
      continue;
    }
    if (record.method != 0) {
      zip.add(record.name, in.read(record));
      continue;
    }
    zip.begin(record.name, record.size);
    for (uint64_t done = 0; done < record.size;) {
      const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(buffer.size(), record.size - done));
      in.read_at(record, done, buffer.data(), n);
      zip.append(buffer.data(), n);
      done += n;
    }
    zip.end();
  }
  zip.finish();
}

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
  AtomicFile out(target, options.force || options.in_place);
  copy_with_new_pickle(ckpt, pickle_bytes, out);
  out.commit();
  return 0;
}

}  // namespace fsdpshard
