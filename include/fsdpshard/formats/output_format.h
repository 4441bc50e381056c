// An output format of gather and reshard as one unit: the name an option gives it, the
// kind of output it writes, and how it plans its files from the input the command opened
// and selected. The units live in src/formats/ and are listed in src/formats/registry.cpp
// (formats/registry.h), the only place that knows them all: the commands and the CLI
// look formats up there and never name one.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/commands/commands.h"
#include "fsdpshard/archive/output_paths.h"
#include "fsdpshard/formats/output_state.h"
#include "fsdpshard/plan/plan.h"
#include "fsdpshard/plan/selection.h"

namespace fsdpshard {

// The option that chooses a format, and so the command that offers it.
enum class FormatOption {
  GatherTo,       // gather --to NAME
  ReshardFormat,  // reshard --format NAME
  ReshardWorld,   // reshard --world M (the format's name appears in no option value)
};
// "--to", "--format", "--world".
const char* option_flag(FormatOption option);

// What the command hands a format: the opened input and the tensors selected from it.
struct SelectedSource {
  Checkpoint& checkpoint;          // output nodes are made in its graph; xp.cfg is read from it
  StateDict source;                // the state dict --from picked
  std::vector<Selected> selected;  // what --include/--exclude/--rename/--dtype chose, in output order
  std::vector<std::string> inputs; // the files records read from (Plan::inputs)
};


// Everything a format plans from.
struct FormatRequest {
  const TransferOptions& options;
  int ranks = 1;                      // the job's size: formats spread their files' writers over it
  SelectedSource* source = nullptr;   // null for a format that opens its input itself
};

class OutputFormat {
 public:
  // `name`: the option's value ("training", "safetensors"); `kind`: -o is one file, or a
  // folder made all at once; `description`: what --help says of it.
  OutputFormat(std::string name, FormatOption option, OutputKind kind, std::string description)
      : name_(std::move(name)), option_(option), kind_(kind), description_(std::move(description)) {}
  virtual ~OutputFormat() = default;
  const std::string& name() const { return name_; }
  FormatOption option() const { return option_; }
  OutputKind output_kind() const { return kind_; }
  const std::string& description() const { return description_; }
  // Whether plan() needs request.source. False for FSDP rank files, which re-lay out every
  // rank file of the input and open them themselves.
  virtual bool plans_from_selection() const { return true; }
  // The files, and what --dry-run and the summary line say of them. InputError for
  // options or inputs the format cannot write; nothing is written before execution.
  virtual PlannedJob plan(const FormatRequest& request) const = 0;

 private:
  std::string name_;
  FormatOption option_;
  OutputKind kind_;
  std::string description_;
};

}  // namespace fsdpshard
