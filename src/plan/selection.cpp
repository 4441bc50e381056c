#include "fsdpshard/plan/selection.h"

#include <algorithm>
#include <map>
#include <memory>

#include "fsdpshard/util/error.h"
#include "util/linear_regex.h"

namespace fsdpshard {

struct NamePattern::Compiled {
  LinearRegex regex;
};

namespace {

bool glob_match(const char* pattern, const char* name) {
  // Iterative glob with one backtrack point: linear in practice, no recursion.
  const char* star = nullptr;
  const char* star_name = nullptr;
  while (*name) {
    if (*pattern == '?' || (*pattern != '*' && *pattern == *name)) {
      ++pattern;
      ++name;
    } else if (*pattern == '*') {
      star = pattern++;
      star_name = name;
    } else if (star) {
      pattern = star + 1;
      name = ++star_name;
    } else {
      return false;
    }
  }
  while (*pattern == '*') ++pattern;
  return *pattern == '\0';
}

// "--include 'a*' --exclude 'b'": the filters as the user gave them, for messages.
std::string describe(const std::vector<FilterRule>& filters) {
  std::string text;
  for (const FilterRule& rule : filters) {
    if (!text.empty()) text += ' ';
    text += (rule.include ? "--include '" : "--exclude '") + rule.pattern.text() + "'";
  }
  return text;
}

}  // namespace

NamePattern::NamePattern(const std::string& text, const std::string& option) : text_(text) {
  if (text.rfind("re:", 0) == 0) {
    is_regex_ = true;
    compiled_ = std::make_shared<const Compiled>(Compiled{LinearRegex(text.substr(3), option)});
  }
}

bool NamePattern::matches(const std::string& name) const {
  if (is_regex_) return compiled_->regex.search(name);
  return glob_match(text_.c_str(), name.c_str());
}

std::vector<Selected> select_tensors(const std::vector<std::string>& names,
                                     const std::vector<DType>& dtypes,
                                     const SelectionOptions& options) {
  std::vector<bool> kept(names.size(), options.filters.empty() || !options.filters.front().include);
  for (const FilterRule& rule : options.filters) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (rule.pattern.matches(names[i])) kept[i] = rule.include;
    }
  }
  if (!options.filters.empty() && !options.allow_empty && std::find(kept.begin(), kept.end(), true) == kept.end()) {
    throw InputError(describe(options.filters) + ": no tensor is left of the " + std::to_string(names.size()) +
                     " (check the patterns, or give --allow-empty to write an empty state dict)");
  }
  std::vector<Selected> selected;
  std::map<std::string, std::string> origin;  // output name -> input name
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!kept[i]) continue;
    std::string name = names[i];
    for (const RenameRule& rename : options.renames) name = rename.apply(name);
    // An empty key is a key torch keeps (state_dict()['']); only a rename that empties
    // a name is refused, as almost surely a mistake in its pattern.
    if (name.empty() && !names[i].empty()) throw InputError("--rename turns '" + names[i] + "' into an empty name");
    const auto [it, fresh] = origin.emplace(name, names[i]);
    if (!fresh) {
      throw InputError("--rename maps both '" + it->second + "' and '" + names[i] + "' to '" + name + "'");
    }
    DType dtype = dtypes[i];
    if (options.dtype && is_castable_floating(dtype)) dtype = *options.dtype;
    selected.push_back({i, std::move(name), dtype});
  }
  return selected;
}

const std::vector<std::string>& dtype_choices() {
  static const std::vector<std::string> choices{"keep", "float16", "bfloat16", "float32"};
  return choices;
}

}  // namespace fsdpshard
