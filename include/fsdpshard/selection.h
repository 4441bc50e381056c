// Which tensors of a state dict go to the output, under which names and dtypes:
// --include/--exclude (applied in the order given), --rename, --dtype.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fsdpshard/dtype.h"

namespace fsdpshard {

// A name pattern: a glob ('*' any run of characters, '?' one) matched against the whole
// name, or 're:<regex>' (ECMAScript) found anywhere in it.
class NamePattern {
 public:
  explicit NamePattern(const std::string& text);  // InputError on a bad regex
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

// 'REGEX=>REPLACEMENT' (ECMAScript regex; \1 or $1 refer to groups).
struct RenameRule {
  explicit RenameRule(const std::string& text);  // InputError when malformed
  std::string apply(const std::string& name) const;
  std::string text;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
  std::string replacement_;
};

struct SelectionOptions {
  std::vector<FilterRule> filters;
  std::vector<RenameRule> renames;
  std::optional<DType> dtype;  // cast floating tensors to this; nullopt = keep
};

struct Selected {
  std::size_t index = 0;  // position in the input list
  std::string name;       // output name
  DType dtype = DType::UInt8;
};

// Rules run in order over the input names: with no rules everything is kept; when the
// first rule is an include, the start is nothing, else everything; an include adds the
// names it matches, an exclude removes them. Then renames apply in order; two tensors
// renamed onto one name is an InputError. Output keeps the input order.
std::vector<Selected> select_tensors(const std::vector<std::string>& names,
                                     const std::vector<DType>& dtypes,
                                     const SelectionOptions& options);

}  // namespace fsdpshard
