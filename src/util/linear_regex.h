// A user-supplied regular expression (--include/--exclude 're:...', --rename,
// --fsdp-units), compiled with RE2. RE2 runs in time linear in the text and bounds its
// memory, so no pattern can crash the tool or hang it: std::regex recursed once per
// character and overflowed the stack on '(x+x+)+y' against a long key (issue 11).
//
// Syntax: RE2's (Perl-like: classes, \d \w \s, groups, alternation, {m,n}, non-greedy
// repetitions, (?i) flags); backreferences and lookaround, which need backtracking, are
// refused. Matching is byte-wise (Latin-1), as std::regex on std::string was: '.' is
// one byte, so names that are not valid UTF-8 still match.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace fsdpshard {

class LinearRegex {
 public:
  // A matched span of the text: [begin, end). begin == npos for a group that took no part.
  struct Span {
    std::size_t begin = std::string::npos;
    std::size_t end = std::string::npos;
    bool matched() const { return begin != std::string::npos; }
  };

  // InputError "<what> '<pattern>': ..." for a pattern RE2 refuses (bad syntax, a
  // repetition over 1000 (nested counts multiply), or a program larger than the memory
  // bound).
  LinearRegex(const std::string& pattern, const std::string& what);

  // True when the regex matches anywhere in `text`.
  bool search(const std::string& text) const;

  // The leftmost match at or after `from` in `text` ('^' and '\b' still see the whole
  // text): fills groups[0] with the match and groups[i] with group i. False when none.
  bool find(const std::string& text, std::size_t from, std::vector<Span>& groups) const;

  // The match anchored at the start of `text` (group 0 only); false when none.
  bool match_prefix(const std::string& text, Span& match) const;

  int group_count() const;

 private:
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace fsdpshard
