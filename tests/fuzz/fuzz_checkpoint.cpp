// libFuzzer target: the whole Checkpoint open path (zip index, data.pkl, storage checks)
// and what inspect and gather ask of it next: layout, state dicts, --from auto, xp.cfg as
// YAML, the globals list, and re-pickling.
#include <cstddef>
#include <cstdint>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/pickle/pickler.h"
#include "fsdpshard/source/resolve_source.h"
#include "fuzz_support.h"

using namespace fsdpshard;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::MemFile file(data, size);
  try {
    Checkpoint ckpt(file.path());
    (void)ckpt.layout();
    (void)ckpt.globals();
    try {
      for (const StateDict& sd : ckpt.state_dicts()) {
        for (const NamedTensor& t : sd.tensors) (void)ckpt.storage_record(t.tensor.storage);
      }
    } catch (const InputError&) {
    }
    try {
      (void)resolve_source(ckpt, "auto");
    } catch (const InputError&) {
    }
    try {
      (void)ckpt.cfg_yaml();
    } catch (const InputError&) {
    }
    (void)pickle(ckpt.graph(), ckpt.root());
  } catch (const InputError&) {
  }
  return 0;
}
