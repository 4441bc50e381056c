// --rename 'REGEX=>REPLACEMENT' (include/fsdpshard/plan/selection.h): RE2 finds the matches,
// the replacement is expanded here with std::regex_replace's rules, so that rules
// written for the std::regex version keep their meaning.
#include <cctype>

#include "fsdpshard/util/error.h"
#include "fsdpshard/plan/selection.h"
#include "util/linear_regex.h"

namespace fsdpshard {

struct RenameRule::Compiled {
  LinearRegex regex;
};

namespace {

using Piece = RenameRule::Piece;

void add_literal(std::vector<Piece>& pieces, char c) {
  if (pieces.empty() || pieces.back().kind != Piece::Kind::Literal) pieces.push_back({});
  pieces.back().literal += c;
}

// Reads a group number of one or two digits at raw[i] (std::regex_replace reads two when
// there are two); advances i past it.
int group_number(const std::string& raw, std::size_t& i) {
  int n = raw[i++] - '0';
  if (i < raw.size() && std::isdigit(static_cast<unsigned char>(raw[i]))) n = n * 10 + (raw[i++] - '0');
  return n;
}

std::vector<Piece> parse_replacement(const std::string& raw, int groups, const std::string& rule) {
  std::vector<Piece> pieces;
  const auto group = [&](int n) {
    if (n > groups) {
      throw InputError("--rename '" + rule + "': the replacement refers to group " + std::to_string(n) +
                       " but the regex has " + std::to_string(groups));
    }
    pieces.push_back({Piece::Kind::Group, "", n});
  };
  for (std::size_t i = 0; i < raw.size();) {
    const char c = raw[i];
    const bool has_next = i + 1 < raw.size();
    const char next = has_next ? raw[i + 1] : '\0';
    if (c == '\\' && has_next && std::isdigit(static_cast<unsigned char>(next))) {  // Python's \1
      ++i;
      group(group_number(raw, i));
    } else if (c == '\\' && next == '\\') {
      add_literal(pieces, '\\');
      i += 2;
    } else if (c == '$' && has_next && std::isdigit(static_cast<unsigned char>(next))) {
      ++i;
      group(group_number(raw, i));
    } else if (c == '$' && next == '$') {
      add_literal(pieces, '$');
      i += 2;
    } else if (c == '$' && next == '&') {
      pieces.push_back({Piece::Kind::Group, "", 0});
      i += 2;
    } else if (c == '$' && next == '`') {
      pieces.push_back({Piece::Kind::Prefix, "", 0});
      i += 2;
    } else if (c == '$' && next == '\'') {
      pieces.push_back({Piece::Kind::Suffix, "", 0});
      i += 2;
    } else {
      add_literal(pieces, c);
      ++i;
    }
  }
  return pieces;
}

}  // namespace

RenameRule::RenameRule(const std::string& rule) : text(rule) {
  const auto arrow = rule.find("=>");
  if (arrow == std::string::npos || arrow == 0) {
    throw InputError("--rename '" + rule + "': expected 'REGEX=>REPLACEMENT'");
  }
  compiled_ = std::make_shared<const Compiled>(Compiled{LinearRegex(rule.substr(0, arrow), "--rename")});
  replacement_ = parse_replacement(rule.substr(arrow + 2), compiled_->regex.group_count(), rule);
}

std::string RenameRule::apply(const std::string& name) const {
  std::string out;
  std::vector<LinearRegex::Span> groups;
  std::size_t copied = 0;  // name[0, copied) is in `out` already
  std::size_t from = 0;
  while (from <= name.size() && compiled_->regex.find(name, from, groups)) {
    const LinearRegex::Span match = groups[0];
    out.append(name, copied, match.begin - copied);
    for (const Piece& piece : replacement_) {
      switch (piece.kind) {
        case Piece::Kind::Literal: out += piece.literal; break;
        case Piece::Kind::Prefix: out.append(name, 0, match.begin); break;
        case Piece::Kind::Suffix: out.append(name, match.end, std::string::npos); break;
        case Piece::Kind::Group: {
          const LinearRegex::Span g = groups[static_cast<std::size_t>(piece.group)];
          if (g.matched()) out.append(name, g.begin, g.end - g.begin);
          break;
        }
      }
    }
    copied = match.end;
    if (match.end > match.begin) {
      from = match.end;
    } else {
      // An empty match: keep the next byte and look again after it (as regex_replace and
      // Python's re.sub do), so 'x*' cannot match at one place forever.
      if (match.begin < name.size()) out += name[match.begin];
      copied = match.begin + 1;
      from = match.begin + 1;
    }
  }
  if (copied < name.size()) out.append(name, copied, std::string::npos);
  return out;
}

}  // namespace fsdpshard
