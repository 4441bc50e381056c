// Which Python globals an output of fsdpshard may name (one list, one place).
//
// A pickle that torch.load reads with weights_only=False imports and may call every
// global it names, so a global is code. Three verdicts:
//   WeightsOnlySafe     torch's own weights_only allow-list (torch 2.x
//                       _weights_only_unpickler._get_allowed_globals, copied from torch 2.15):
//                       storages, dtypes, the tensor rebuild functions, OrderedDict, set…
//   AllowedByFsdpshard  what real AudioCraft checkpoints also need and what cannot run
//                       code when loaded: omegaconf's DictConfig/ListConfig and their node
//                       and metadata classes, typing.Any, builtins containers and scalars,
//                       collections.defaultdict, numpy scalars/dtypes/arrays (the globals
//                       torch's docs add with add_safe_globals for numpy values)
//   CanRunCode          everything else (posix.system, builtins.eval, any user class…)
#pragma once

#include <string>

namespace fsdpshard {

enum class GlobalVerdict { WeightsOnlySafe, AllowedByFsdpshard, CanRunCode };

// `module`/`name` as the pickle names them; Python 2 names (__builtin__, copy_reg, long,
// unicode) are mapped as Python 3's unpickler maps them (_compat_pickle) first.
GlobalVerdict global_verdict(const std::string& module, const std::string& name);

// "weights-only-safe" | "allowed-by-fsdpshard" | "can-run-code" (inspect --json).
const char* verdict_name(GlobalVerdict verdict);

}  // namespace fsdpshard
