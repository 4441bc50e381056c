#include "util/linear_regex.h"

#include <re2/re2.h>

#include "fsdpshard/util/error.h"

namespace fsdpshard {

namespace {

// RE2's own default: enough for any sensible name pattern, and what makes a pattern
// such as '((a{100}){100}){100}' "too large" instead of a memory hog.
constexpr int64_t kRegexMemoryBytes = 8 << 20;

re2::RE2::Options options() {
  re2::RE2::Options o;
  o.set_encoding(re2::RE2::Options::EncodingLatin1);  // byte-wise, as std::regex was
  o.set_log_errors(false);                             // the InputError says it once
  o.set_max_mem(kRegexMemoryBytes);
  return o;
}

}  // namespace

LinearRegex::LinearRegex(const std::string& pattern, const std::string& what) {
  auto re = std::make_shared<const re2::RE2>(pattern, options());
  if (!re->ok()) {
    std::string why = re->error();
    if (re->error_code() == re2::RE2::ErrorPatternTooLarge) {
      why = "the pattern is too large (compiles to more than " + std::to_string(kRegexMemoryBytes >> 20) + " MiB)";
    } else if (re->error_code() == re2::RE2::ErrorRepeatSize) {
      why = "a repetition is too large (RE2 allows {n} up to 1000, nested counts multiplied) (" + why + ")";
    }
    throw InputError(what + " '" + pattern + "': not a usable regular expression: " + why);
  }
  re_ = std::move(re);
}

bool LinearRegex::search(const std::string& text) const {
  return re_->Match(text, 0, text.size(), re2::RE2::UNANCHORED, nullptr, 0);
}

int LinearRegex::group_count() const { return re_->NumberOfCapturingGroups(); }

bool LinearRegex::find(const std::string& text, std::size_t from, std::vector<Span>& groups) const {
  const int n = group_count() + 1;
  std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(n));
  if (from > text.size() || !re_->Match(text, from, text.size(), re2::RE2::UNANCHORED, pieces.data(), n)) {
    return false;
  }
  groups.assign(static_cast<std::size_t>(n), Span{});
  for (int i = 0; i < n; ++i) {
    const re2::StringPiece& p = pieces[static_cast<std::size_t>(i)];
    if (p.data() == nullptr) continue;  // the group took no part in the match
    const auto begin = static_cast<std::size_t>(p.data() - text.data());
    groups[static_cast<std::size_t>(i)] = {begin, begin + p.size()};
  }
  return true;
}

bool LinearRegex::match_prefix(const std::string& text, Span& match) const {
  re2::StringPiece whole;
  if (!re_->Match(text, 0, text.size(), re2::RE2::ANCHOR_START, &whole, 1)) return false;
  const auto begin = static_cast<std::size_t>(whole.data() - text.data());
  match = {begin, begin + whole.size()};
  return true;
}

}  // namespace fsdpshard
