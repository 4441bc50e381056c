#include "util/utf8.h"

#include <cstdint>
#include <cstdio>

#include "fsdpshard/util/error.h"

namespace fsdpshard::utf8 {
namespace {

// Length of the well-formed sequence at `i` (1..4), or 0. `*surrogate` tells whether it
// encodes U+D800..U+DFFF (then only valid with 'surrogatepass').
std::size_t sequence_at(std::string_view s, std::size_t i, bool* surrogate) {
  *surrogate = false;
  const auto byte = [&](std::size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length;
  uint32_t cp;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0Fu;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07u;
  } else {
    return 0;  // a continuation byte, an overlong 2-byte lead (C0, C1), or F5..FF
  }
  if (i + length > s.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[length] || cp > 0x10FFFF) return 0;
  *surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  return length;
}

}  // namespace

std::size_t first_invalid(std::string_view text, bool allow_surrogates) {
  for (std::size_t i = 0; i < text.size();) {
    bool surrogate;
    const std::size_t length = sequence_at(text, i, &surrogate);
    if (length == 0 || (surrogate && !allow_surrogates)) return i;
    i += length;
  }
  return kValid;
}

std::string printable(std::string_view text) {
  std::string out;
  char escape[12];
  for (std::size_t i = 0; i < text.size();) {
    bool surrogate;
    const std::size_t length = sequence_at(text, i, &surrogate);
    if (length == 0) {
      std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned>(static_cast<uint8_t>(text[i])));
      out += escape;
      ++i;
      continue;
    }
    if (surrogate) {
      const uint32_t cp = ((static_cast<uint8_t>(text[i]) & 0x0Fu) << 12) |
                          ((static_cast<uint8_t>(text[i + 1]) & 0x3Fu) << 6) |
                          (static_cast<uint8_t>(text[i + 2]) & 0x3Fu);
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(cp));
      out += escape;
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

void require_for_json(std::string_view text, const std::string& role, const std::string& what) {
  const std::size_t bad = first_invalid(text, /*allow_surrogates=*/false);
  if (bad == kValid) return;
  const bool surrogate = first_invalid(text, /*allow_surrogates=*/true) != bad;
  throw InputError(role + " '" + printable(text) + "' is not valid UTF-8 (" +
                   (surrogate ? "a lone surrogate" : "a stray byte") + " at byte " + std::to_string(bad) +
                   "): a " + what + " is JSON text and cannot hold it (--rename or --exclude it)");
}

}  // namespace fsdpshard::utf8
