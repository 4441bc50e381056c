// Python's own number <-> text rules, which omegaconf and PyYAML lean on: repr(float),
// int(str) / float(str) acceptance, and unbounded ints held as decimal text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fsdpshard::config {

// repr(x) for a Python float: shortest round-trip digits, '1e-05', '0.0001', '1e+16', 'inf'.
std::string python_float_repr(double x);

// PyYAML's represent_float: '.nan', '.inf', '-.inf', else repr lower-cased with '.0'
// inserted before an exponent that follows a bare integer ('1.0e-05').
std::string yaml_float_text(double x);

// Whether Python's int(s) / float(s) would accept `s` (UTF-8): surrounding Unicode
// whitespace, a sign, '_' between digits, any Unicode decimal digit; float also takes
// inf/infinity/nan in any case. omegaconf quotes strings that pass either test.
bool python_accepts_int(const std::string& s);
bool python_accepts_float(const std::string& s);
// The ASCII text Python parses for such a string: whitespace stripped, '_' removed, every
// Unicode decimal digit replaced by its ASCII digit.
std::string python_number_text(const std::string& s);

// Unbounded integers as decimal text ("-123").
// Value of `digits` (no sign, no '_') in `base` (2, 8, 10, 16), as decimal text; nullopt
// when a digit is out of range or there are none.
std::optional<std::string> digits_to_decimal(const std::string& digits, int base);
// Adds two non-negative decimal texts / multiplies one by a small factor.
std::string decimal_add(const std::string& a, const std::string& b);
std::string decimal_mul_small(const std::string& a, unsigned factor);
// Removes leading zeros and a '-' on zero.
std::string decimal_normalize(std::string text);
// int64 value of decimal text, when it fits.
std::optional<int64_t> decimal_to_int64(const std::string& text);
// Two's complement little-endian bytes (pickle LONG1/LONG4 payload) <-> decimal text.
std::string twos_complement_to_decimal(const std::string& bytes);
std::string decimal_to_twos_complement(const std::string& text);

}  // namespace fsdpshard::config
