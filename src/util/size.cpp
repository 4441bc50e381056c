#include "util/size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "fsdpshard/error.h"

namespace fsdpshard {

uint64_t parse_size(const std::string& text, const std::string& option) {
  const auto fail = [&]() -> uint64_t {
    throw InputError(option + " '" + text + "': expected a size such as 500MB, 2GB, 1.5GiB or 4096");
  };
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return fail();
  char* end = nullptr;
  const std::string number = text.substr(0, i);
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return fail();
  std::string unit;
  for (std::size_t j = i; j < text.size(); ++j) {
    if (!std::isspace(static_cast<unsigned char>(text[j]))) unit += static_cast<char>(std::toupper(text[j]));
  }
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
  const double bytes = value * scale;
  if (bytes < 1 || bytes > 1.8e19) return fail();
  return static_cast<uint64_t>(std::llround(bytes));
}

}  // namespace fsdpshard
