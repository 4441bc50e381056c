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

OutputState output_state_of(const SelectedSource& source, const std::vector<Selected>& selected) {
  return build_output_state(source.checkpoint, source.source, selected);
}

}  // namespace fsdpshard
