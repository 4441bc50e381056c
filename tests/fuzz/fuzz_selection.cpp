// libFuzzer target: the selection rules on arbitrary pattern and key text. The input is
// split at the first two NUL bytes into PATTERN \0 REPLACEMENT \0 KEYS (newline-separated
// tensor names); PATTERN is tried as a glob, as 're:PATTERN' and as the regex of
// '--rename PATTERN=>REPLACEMENT', over every key. Bad patterns end as an InputError;
// crashes, sanitizer reports, timeouts (a regex that backtracks) and other exceptions are
// bugs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fsdpshard/util/error.h"
#include "fsdpshard/plan/selection.h"

using namespace fsdpshard;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

std::string field(const std::string& text, std::size_t& at) {
  const std::size_t end = text.find('\0', at);
  std::string part = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
  at = end == std::string::npos ? text.size() : end + 1;
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::size_t at = 0;
  const std::string pattern = field(input, at);
  const std::string replacement = field(input, at);
  const std::vector<std::string> keys = lines_of(input.substr(at));
  const std::vector<DType> dtypes(keys.size(), DType::Float32);

  for (const std::string& text : {pattern, "re:" + pattern}) {
    try {
      SelectionOptions options;
      options.filters.push_back({true, NamePattern(text, "--include")});
      options.allow_empty = true;
      const auto kept = select_tensors(keys, dtypes, options);
      if (kept.size() > keys.size()) __builtin_trap();
    } catch (const InputError&) {
    }
  }
  try {
    const RenameRule rule(pattern + "=>" + replacement);
    for (const std::string& key : keys) {
      const std::string once = rule.apply(key);
      if (rule.apply(key) != once) __builtin_trap();  // renaming is a function of the key
    }
  } catch (const InputError&) {
  }
  return 0;
}
