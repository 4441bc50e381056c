// Which tensors of a state dict go to the output, under which names and dtypes:
// --include/--exclude (applied in the order given), --rename, --dtype.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fsdpshard/util/dtype.h"

namespace fsdpshard {

// A name pattern: a glob ('*' any run of characters, '?' one) matched against the whole
// name, or 're:<regex>' (RE2 syntax, byte-wise: util/linear_regex.h) found anywhere in it.
class NamePattern {
 public:
  // InputError naming `option` (--include / --exclude) on a bad or too large regex.
  explicit NamePattern(const std::string& text, const std::string& option = "pattern");
  bool matches(const std::string& name) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  bool is_regex_ = false;
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

struct FilterRule {
  bool include = true;
  NamePattern pattern;
};

// 'REGEX=>REPLACEMENT': every non-overlapping match of REGEX (RE2 syntax, byte-wise) is
// replaced, as std::regex_replace did. In REPLACEMENT, \N or $N (N: one or two digits)
// is group N, $& the match, $` and $' the text before and after it, $$ a '$' and \\ a
// '\'; anything else is literal.
struct RenameRule {
  explicit RenameRule(const std::string& text);  // InputError when malformed
  std::string apply(const std::string& name) const;
  std::string text;

  // One part of a parsed REPLACEMENT.
  struct Piece {
    enum class Kind { Literal, Group, Prefix, Suffix } kind = Kind::Literal;
    std::string literal;
    int group = 0;
  };

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
  std::vector<Piece> replacement_;
};

struct SelectionOptions {
  std::vector<FilterRule> filters;
  std::vector<RenameRule> renames;
  std::optional<DType> dtype;  // cast floating tensors to this; nullopt = keep
  bool allow_empty = false;    // --allow-empty: filters may leave no tensor
};

// What --dtype accepts, in the order --help lists it: keep, or the floating dtype every
// floating tensor is cast to.
const std::vector<std::string>& dtype_choices();

struct Selected {
  std::size_t index = 0;  // position in the input list
  std::string name;       // output name
  DType dtype = DType::UInt8;
};

// Rules run in order over the input names: with no rules everything is kept; when the
// first rule is an include, the start is nothing, else everything; an include adds the
// names it matches, an exclude removes them. Then renames apply in order; two tensors
// renamed onto one name is an InputError. Output keeps the input order. Filters that
// leave no tensor are an InputError (a typo in --include would otherwise write an empty
// checkpoint with exit 0) unless allow_empty.
std::vector<Selected> select_tensors(const std::vector<std::string>& names,
                                     const std::vector<DType>& dtypes,
                                     const SelectionOptions& options);

}  // namespace fsdpshard
