#include "pickle/pickle_text.h"

#include <stdexcept>

namespace fsdpshard::pickle_text {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) append_utf8(out, static_cast<uint8_t>(c));
  return out;
}

std::string escape_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == text.size()) throw std::invalid_argument("trailing \\ in STRING argument");
    const char e = text[i];
    switch (e) {
      case '\n': break;  // line continuation
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': {
        const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          throw std::invalid_argument("invalid \\x escape at position " + std::to_string(i - 1) +
                                      " of STRING argument");
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      default:
        if (is_octal(e)) {
          // Up to three octal digits; CPython keeps the low byte of larger values.
          unsigned value = static_cast<unsigned>(e - '0');
          for (int k = 0; k < 2 && i + 1 < text.size() && is_octal(text[i + 1]); ++k) {
            value = value * 8 + static_cast<unsigned>(text[++i] - '0');
          }
          out.push_back(static_cast<char>(value & 0xff));
        } else {
          // Unknown escapes stay as written.
          out.push_back('\\');
          out.push_back(e);
        }
    }
  }
  return out;
}

std::string raw_unicode_escape_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '\\') {
      append_utf8(out, static_cast<uint8_t>(text[i++]));
      continue;
    }
    // A run of backslashes stays literal, except that an odd run followed by u/U makes
    // its last backslash the start of an escape.
    std::size_t run = 0;
    while (i < text.size() && text[i] == '\\') {
      ++run;
      ++i;
    }
    const bool escape = (run % 2 == 1) && i < text.size() && (text[i] == 'u' || text[i] == 'U');
    out.append(escape ? run - 1 : run, '\\');
    if (!escape) continue;
    const std::size_t digits = text[i] == 'u' ? 4 : 8;
    ++i;
    if (i + digits > text.size()) {
      throw std::invalid_argument("truncated \\u escape in UNICODE argument");
    }
    uint32_t cp = 0;
    for (std::size_t k = 0; k < digits; ++k) {
      const int v = hex_value(text[i + k]);
      if (v < 0) throw std::invalid_argument("invalid \\u escape in UNICODE argument");
      cp = cp * 16 + static_cast<uint32_t>(v);
    }
    if (cp > 0x10ffff) throw std::invalid_argument("\\U escape beyond U+10FFFF in UNICODE argument");
    append_utf8(out, cp);
    i += digits;
  }
  return out;
}

}  // namespace fsdpshard::pickle_text
