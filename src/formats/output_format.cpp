#include "fsdpshard/formats/output_format.h"

namespace fsdpshard {

const char* option_flag(FormatOption option) {
  switch (option) {
    case FormatOption::GatherTo: return "--to";
    case FormatOption::ReshardFormat: return "--format";
    case FormatOption::ReshardWorld: return "--world";
  }
  return "?";
}

}  // namespace fsdpshard
