#include "config/python_numbers.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "config/utf8.h"

namespace fsdpshard::config {

std::string python_float_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in scientific form, then laid out the way CPython's
  // float_repr does: exponent form when the decimal point falls at <= -4 or > 16.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(x), std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const std::size_t e = sci.find('e');
  std::string digits;
  for (std::size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  const int exponent = std::atoi(sci.c_str() + e + 1);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int decpt = exponent + 1;
  const int ndigits = static_cast<int>(digits.size());
  std::string out = std::signbit(x) ? "-" : "";
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (ndigits > 1) out += "." + digits.substr(1);
    const int ex = decpt - 1;
    out += ex < 0 ? "e-" : "e+";
    std::string ed = std::to_string(std::abs(ex));
    if (ed.size() < 2) ed = "0" + ed;
    out += ed;
  } else if (decpt <= 0) {
    out += "0." + std::string(-decpt, '0') + digits;
  } else if (decpt >= ndigits) {
    out += digits + std::string(decpt - ndigits, '0') + ".0";
  } else {
    out += digits.substr(0, decpt) + "." + digits.substr(decpt);
  }
  return out;
}

std::string yaml_float_text(double x) {
  if (std::isnan(x)) return ".nan";
  if (std::isinf(x)) return x < 0 ? "-.inf" : ".inf";
  std::string value = python_float_repr(x);
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (value.find('.') == std::string::npos) {
    const std::size_t e = value.find('e');
    if (e != std::string::npos) value.insert(e, ".0");
  }
  return value;
}

namespace {

// Zero of every Unicode decimal-digit run (category Nd, Unicode 14 as in CPython 3.11);
// each run holds the ten digits 0..9 in order.
constexpr char32_t kDigitZeros[] = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,
    0xc66,   0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,
    0x1810,  0x1946,  0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,
    0xa8d0,  0xa900,  0xa9d0,  0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066,
    0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0,
    0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2,
    0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0};

int digit_value(char32_t c) {
  for (char32_t zero : kDigitZeros) {
    if (c >= zero && c < zero + 10) return static_cast<int>(c - zero);
  }
  return -1;
}

// str.isspace() in CPython.
bool python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000;
}

// The text between surrounding whitespace, with every decimal digit mapped to ASCII and
// other characters kept (non-ASCII ones as '\x01' so they never match).
bool strip_and_fold(const std::string& s, std::string& out) {
  std::u32string u;
  try {
    u = utf8_decode(s);
  } catch (...) {
    return false;
  }
  std::size_t b = 0, e = u.size();
  while (b < e && python_space(u[b])) ++b;
  while (e > b && python_space(u[e - 1])) --e;
  out.clear();
  for (std::size_t i = b; i < e; ++i) {
    const int d = digit_value(u[i]);
    if (d >= 0) out.push_back(static_cast<char>('0' + d));
    else if (u[i] < 0x80) out.push_back(static_cast<char>(u[i]));
    else out.push_back('\x01');
  }
  return true;
}

// Digits with single '_' between them (PEP 515), starting at i; returns count of digits.
std::size_t scan_digits(const std::string& s, std::size_t& i) {
  std::size_t count = 0;
  while (i < s.size()) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++count;
      ++i;
    } else if (s[i] == '_' && count > 0 && i + 1 < s.size() &&
               std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      ++i;
    } else {
      break;
    }
  }
  return count;
}

bool iequals(const std::string& a, const char* b) {
  std::string lower;
  for (char c : a) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower == b;
}

}  // namespace

bool python_accepts_int(const std::string& text) {
  std::string s;
  if (!strip_and_fold(text, s)) return false;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (scan_digits(s, i) == 0) return false;
  return i == s.size();
}

bool python_accepts_float(const std::string& text) {
  std::string s;
  if (!strip_and_fold(text, s)) return false;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const std::string rest = s.substr(i);
  if (iequals(rest, "inf") || iequals(rest, "infinity") || iequals(rest, "nan")) return true;
  std::size_t mantissa = scan_digits(s, i);
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += scan_digits(s, i);
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (scan_digits(s, i) == 0) return false;
  }
  return i == s.size();
}

std::string python_number_text(const std::string& text) {
  std::string s, out;
  if (!strip_and_fold(text, s)) return "";
  for (char c : s) {
    if (c != '_') out.push_back(c);
  }
  return out;
}

std::string decimal_normalize(std::string text) {
  bool negative = !text.empty() && text[0] == '-';
  std::string digits = negative || (!text.empty() && text[0] == '+') ? text.substr(1) : text;
  const std::size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  if (digits == "0") negative = false;
  return negative ? "-" + digits : digits;
}

std::string decimal_mul_small(const std::string& a, unsigned factor) {
  std::string out;
  unsigned carry = 0;
  for (auto it = a.rbegin(); it != a.rend(); ++it) {
    const unsigned v = static_cast<unsigned>(*it - '0') * factor + carry;
    out.push_back(static_cast<char>('0' + v % 10));
    carry = v / 10;
  }
  while (carry) {
    out.push_back(static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
  std::reverse(out.begin(), out.end());
  return decimal_normalize(out);
}

std::string decimal_add(const std::string& a, const std::string& b) {
  std::string out;
  int carry = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    int v = carry;
    if (i < a.size()) v += a[a.size() - 1 - i] - '0';
    if (i < b.size()) v += b[b.size() - 1 - i] - '0';
    out.push_back(static_cast<char>('0' + v % 10));
    carry = v / 10;
  }
  std::reverse(out.begin(), out.end());
  return decimal_normalize(out);
}

std::optional<std::string> digits_to_decimal(const std::string& digits, int base) {
  if (digits.empty()) return std::nullopt;
  std::string value = "0";
  for (char c : digits) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0 || d >= base) return std::nullopt;
    value = decimal_add(decimal_mul_small(value, static_cast<unsigned>(base)), std::to_string(d));
  }
  return value;
}

std::optional<int64_t> decimal_to_int64(const std::string& text) {
  int64_t v = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

namespace {

// Two's complement negation of a little-endian byte string (invert, add one).
void negate_in_place(std::string& bytes) {
  unsigned carry = 1;
  for (char& c : bytes) {
    const unsigned v = (static_cast<unsigned char>(~static_cast<unsigned char>(c))) + carry;
    c = static_cast<char>(v & 0xFF);
    carry = v >> 8;
  }
}

}  // namespace

std::string twos_complement_to_decimal(const std::string& bytes) {
  if (bytes.empty()) return "0";
  const bool negative = (static_cast<unsigned char>(bytes.back()) & 0x80) != 0;
  // Magnitude bytes: the value itself, or its two's complement negation.
  std::string mag(bytes);
  if (negative) negate_in_place(mag);
  std::string value = "0";
  for (auto it = mag.rbegin(); it != mag.rend(); ++it) {
    value = decimal_add(decimal_mul_small(value, 256),
                        std::to_string(static_cast<unsigned char>(*it)));
  }
  return negative ? decimal_normalize("-" + value) : value;
}

std::string decimal_to_twos_complement(const std::string& text) {
  const std::string norm = decimal_normalize(text);
  const bool negative = norm[0] == '-';
  std::string digits = negative ? norm.substr(1) : norm;
  // Repeated division by 256 gives the magnitude's little-endian bytes.
  std::string mag;
  while (digits != "0") {
    std::string quotient;
    unsigned rem = 0;
    for (char c : digits) {
      rem = rem * 10 + static_cast<unsigned>(c - '0');
      quotient.push_back(static_cast<char>('0' + rem / 256));
      rem %= 256;
    }
    mag.push_back(static_cast<char>(rem));
    digits = decimal_normalize(quotient);
  }
  if (negative) {
    negate_in_place(mag);
    if (mag.empty() || !(static_cast<unsigned char>(mag.back()) & 0x80)) mag.push_back('\xff');
  } else if (!mag.empty() && (static_cast<unsigned char>(mag.back()) & 0x80)) {
    mag.push_back('\0');
  }
  return mag;
}

}  // namespace fsdpshard::config
