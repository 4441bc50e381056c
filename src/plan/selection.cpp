#include "fsdpshard/selection.h"

#include <map>
#include <memory>
#include <regex>

#include "fsdpshard/error.h"

namespace fsdpshard {

struct NamePattern::Compiled {
  std::regex regex;
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

std::regex compile(const std::string& text, const std::string& what) {
  try {
    return std::regex(text, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw InputError("bad regular expression in " + what + " '" + text + "': " + e.what());
  }
}

}  // namespace

NamePattern::NamePattern(const std::string& text) : text_(text) {
  if (text.rfind("re:", 0) == 0) {
    is_regex_ = true;
    compiled_ = std::make_shared<const Compiled>(Compiled{compile(text.substr(3), "pattern")});
  }
}

bool NamePattern::matches(const std::string& name) const {
  if (is_regex_) return std::regex_search(name, compiled_->regex);
  return glob_match(text_.c_str(), name.c_str());
}

struct RenameRule::Compiled {
  std::regex regex;
};

RenameRule::RenameRule(const std::string& rule) : text(rule) {
  const auto arrow = rule.find("=>");
  if (arrow == std::string::npos || arrow == 0) {
    throw InputError("--rename '" + rule + "': expected 'REGEX=>REPLACEMENT'");
  }
  compiled_ = std::make_shared<const Compiled>(Compiled{compile(rule.substr(0, arrow), "--rename")});
  // Python users write \1 for a group; std::regex formats use $1. Accept both.
  const std::string raw = rule.substr(arrow + 2);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && std::isdigit(static_cast<unsigned char>(raw[i + 1]))) {
      replacement_ += '$';
    } else if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == '\\') {
      replacement_ += '\\';
      ++i;
    } else {
      replacement_ += raw[i];
    }
  }
}

std::string RenameRule::apply(const std::string& name) const {
  return std::regex_replace(name, compiled_->regex, replacement_);
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

}  // namespace fsdpshard
