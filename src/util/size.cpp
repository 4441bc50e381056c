#include "util/size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

std::string trimmed(const std::string& text) {
  std::size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

}  // namespace

uint64_t parse_size(const std::string& text, const std::string& option) {
  const auto fail = [&]() -> uint64_t {
    throw InputError(option + " '" + text + "': expected a size such as 5GB, 500MB, 1.5GiB or 4096");
  };
  // huggingface_hub's parse_size_to_int: the unit is the last letters (any case), the
  // value a float before them (spaces allowed between), the result truncated to an int.
  const std::string s = trimmed(text);
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
                          s[i] == 'E' || s[i] == '+' || s[i] == '-')) {
    ++i;
  }
  const std::string number = s.substr(0, i);
  if (number.empty()) return fail();
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return fail();
  std::string unit;
  for (char c : trimmed(s.substr(i))) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB" || unit == "K") scale = 1e3;
  else if (unit == "MB" || unit == "M") scale = 1e6;
  else if (unit == "GB" || unit == "G") scale = 1e9;
  else if (unit == "TB" || unit == "T") scale = 1e12;
  else if (unit == "KIB") scale = 1024.0;
  else if (unit == "MIB") scale = 1024.0 * 1024;
  else if (unit == "GIB") scale = 1024.0 * 1024 * 1024;
  else if (unit == "TIB") scale = 1024.0 * 1024 * 1024 * 1024;
  else return fail();
  const double bytes = std::trunc(value * scale);  // Python's int(value * multiplier)
  if (bytes < 1 || bytes > 1.8e19) return fail();
  return static_cast<uint64_t>(bytes);
}

}  // namespace fsdpshard
