// UTF-8 <-> code points. PyYAML measures columns and classifies characters per code point,
// so the emitter works on decoded text.
#pragma once

#include <string>

namespace fsdpshard::config {

// Decodes UTF-8. Surrogate code points (which Python's pickle writes with 'surrogatepass')
// are accepted; other malformed input is an InputError naming `what`.
std::u32string utf8_decode(const std::string& text, const char* what = "xp.cfg");
std::string utf8_encode(const std::u32string& text);
void utf8_append(std::string& out, char32_t cp);

}  // namespace fsdpshard::config
