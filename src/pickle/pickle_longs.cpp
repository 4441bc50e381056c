#include "pickle/pickle_longs.h"

#include <stdexcept>

namespace fsdpshard::pickle_long {

namespace {
constexpr std::size_t kMaxDigits = 4300;  // CPython's sys.int_info.default_max_str_digits
}  // namespace

std::string minimal(std::string_view bytes) {
  std::string out(bytes);
  // A top byte is redundant when it only repeats the sign of the byte below it.
  while (out.size() > 1) {
    const auto top = static_cast<uint8_t>(out[out.size() - 1]);
    const auto below = static_cast<uint8_t>(out[out.size() - 2]);
    const bool redundant = (top == 0x00 && !(below & 0x80)) || (top == 0xff && (below & 0x80));
    if (!redundant) break;
    out.pop_back();
  }
  if (out.size() == 1 && out[0] == 0) out.clear();
  return out;
}

std::string encode(int64_t value) {
  std::string bytes(8, '\0');
  auto bits = static_cast<uint64_t>(value);
  for (std::size_t i = 0; i < 8; ++i, bits >>= 8) bytes[i] = static_cast<char>(bits & 0xff);
  return minimal(bytes);
}

std::optional<int64_t> to_int64(std::string_view minimal_bytes) {
  if (minimal_bytes.size() > 8) return std::nullopt;
  if (minimal_bytes.empty()) return 0;
  uint64_t bits = 0;
  for (std::size_t i = minimal_bytes.size(); i-- > 0;) {
    bits = (bits << 8) | static_cast<uint8_t>(minimal_bytes[i]);
  }
  // Sign-extend from the top byte actually present.
  const unsigned width = static_cast<unsigned>(minimal_bytes.size()) * 8;
  if (width < 64 && (bits >> (width - 1)) & 1) bits |= ~uint64_t{0} << width;
  return static_cast<int64_t>(bits);
}

std::string from_decimal(std::string_view text) {
  bool minus = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    minus = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) throw std::invalid_argument("integer text has no digits");
  if (text.size() > kMaxDigits) {
    throw std::invalid_argument("integer text longer than " + std::to_string(kMaxDigits) +
                                " digits");
  }
  // Magnitude, little-endian base 256: multiply by 10 and add each digit.
  std::string magnitude;
  for (char c : text) {
    if (c < '0' || c > '9') {
      throw std::invalid_argument("invalid character in integer text: '" +
                                  std::string(1, c) + "'");
    }
    unsigned carry = static_cast<unsigned>(c - '0');
    for (char& byte : magnitude) {
      const unsigned v = static_cast<uint8_t>(byte) * 10u + carry;
      byte = static_cast<char>(v & 0xff);
      carry = v >> 8;
    }
    if (carry) magnitude.push_back(static_cast<char>(carry));
  }
  magnitude.push_back('\0');  // room for a positive sign bit
  if (minus) {
    // Two's complement negation: invert, then add one.
    unsigned carry = 1;
    for (char& byte : magnitude) {
      const unsigned v = static_cast<uint8_t>(~static_cast<uint8_t>(byte)) + carry;
      byte = static_cast<char>(v & 0xff);
      carry = v >> 8;
    }
  }
  return minimal(magnitude);
}

}  // namespace fsdpshard::pickle_long
