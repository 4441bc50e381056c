// libFuzzer target: YAML text as it reaches the config reader, in both ways a user can
// hand it over: as an exported checkpoint's xp.cfg string (re-emitted, and turned into a
// DictConfig and back, as gather does) and as a --merge FILE merged into a config.
// Alias bombs must end as an InputError within the expansion budget
// (src/config/expansion_budget.h), never as an out-of-memory or a timeout; anything but
// an InputError is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fsdpshard/config/cfg.h"
#include "fsdpshard/util/error.h"
#include "fuzz_support.h"

using namespace fsdpshard;

namespace {

constexpr const char* kBaseConfig =
    "optim:\n  lr: 0.001\n  epochs: 10\ndataset:\n  train:\n    path: /data/train\n  batch_size: 8\n"
    "transformer_lm:\n  dim: 1024\n  layers: [1, 2, 3]\n";

void as_exported_cfg(const std::string& text) {
  try {
    const std::string yaml = normalize_yaml(text);
    Graph graph;
    const NodeId cfg = dictconfig_from_yaml(graph, text);
    // The DictConfig gather writes reads back as the same YAML.
    if (dictconfig_to_yaml(graph, cfg) != yaml) __builtin_trap();
  } catch (const InputError&) {
  }
}

void as_merge_file(const uint8_t* data, std::size_t size) {
  const fuzz::MemFile file(data, size);
  CfgEdits edits;
  edits.merge_files.push_back(file.path());
  try {
    (void)edit_yaml(kBaseConfig, edits);
  } catch (const InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  as_exported_cfg(text);
  as_merge_file(data, size);
  return 0;
}
