#include "config/yaml_scalar_types.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <regex>

#include "config/python_numbers.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

namespace {

// YAML 1.1 implicit types as PyYAML's resolver.py spells them. Every pattern only matches
// text starting with one of the first characters PyYAML files it under, so a whole-text
// match is the same test. (Python's '$' also allows one trailing '\n', but a plain scalar
// never ends with a line break.)
const std::regex& bool_re() {
  static const std::regex re("yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF");
  return re;
}
const std::regex& float_re() {
  static const std::regex re(
      "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
      "|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
      "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
      "|[-+]?\\.(?:inf|Inf|INF)"
      "|\\.(?:nan|NaN|NAN)");
  return re;
}
// omegaconf's extra float resolver (get_yaml_loader): also '1e5', '1e-5', '.5e+3'.
const std::regex& omegaconf_float_re() {
  static const std::regex re(
      "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
      "|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
      "|\\.[0-9_]+(?:[eE][-+][0-9]+)?"
      "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
      "|[-+]?\\.(?:inf|Inf|INF)"
      "|\\.(?:nan|NaN|NAN)");
  return re;
}
const std::regex& int_re() {
  static const std::regex re(
      "[-+]?0b[0-1_]+"
      "|[-+]?0[0-7_]+"
      "|[-+]?(?:0|[1-9][0-9_]*)"
      "|[-+]?0x[0-9a-fA-F_]+"
      "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+");
  return re;
}
const std::regex& timestamp_re() {
  static const std::regex re(
      "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
      "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
      "(?:[Tt]|[ \\t]+)[0-9][0-9]?"
      ":[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
      "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?");
  return re;
}
bool is_null_token(const std::string& t) {
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}
bool full(const std::string& t, const std::regex& re) {
  // std::regex works on bytes; these patterns are ASCII, so UTF-8 text is safe to test.
  return std::regex_match(t, re);
}

std::string strip_underscores(const std::string& t) {
  std::string out;
  for (char c : t) {
    if (c != '_') out.push_back(c);
  }
  return out;
}

}  // namespace

bool dumper_reads_plain_as_str(const std::string& text) {
  if (is_null_token(text) || text == "<<" || text == "=") return false;
  // libstdc++'s regex recurses per character; no YAML number or timestamp is this long
  // in a real config, and such text would only lose its quotes, never its content.
  if (text.size() > 4096) return true;
  return !(full(text, bool_re()) || full(text, float_re()) || full(text, int_re()) ||
           full(text, timestamp_re()));
}

CfgValue construct_yaml_bool(const std::string& text) {
  static const char* const kTrue[] = {"yes", "true", "on"};
  static const char* const kFalse[] = {"no", "false", "off"};
  std::string lower;
  for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const char* t : kTrue) {
    if (lower == t) return CfgValue::of_bool(true);
  }
  for (const char* f : kFalse) {
    if (lower == f) return CfgValue::of_bool(false);
  }
  throw InputError("xp.cfg: '" + text + "' is not a YAML bool");
}

CfgValue construct_yaml_int(const std::string& text) {
  std::string value = strip_underscores(text);
  bool negative = false;
  if (!value.empty() && (value[0] == '-' || value[0] == '+')) {
    negative = value[0] == '-';
    value = value.substr(1);
  }
  std::optional<std::string> magnitude;
  if (value == "0") {
    magnitude = "0";
  } else if (value.rfind("0b", 0) == 0) {
    magnitude = digits_to_decimal(value.substr(2), 2);
  } else if (value.rfind("0x", 0) == 0) {
    magnitude = digits_to_decimal(value.substr(2), 16);
  } else if (!value.empty() && value[0] == '0') {
    magnitude = digits_to_decimal(value, 8);
  } else if (value.find(':') != std::string::npos) {
    // Sexagesimal: 1:30 is 90.
    std::string total = "0";
    std::size_t start = 0;
    while (true) {
      const std::size_t colon = value.find(':', start);
      auto part = digits_to_decimal(value.substr(start, colon - start), 10);
      if (!part) {
        total.clear();
        break;
      }
      total = decimal_add(decimal_mul_small(total, 60), *part);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (!total.empty()) magnitude = total;
  } else {
    magnitude = digits_to_decimal(value, 10);
  }
  if (!magnitude) throw InputError("xp.cfg: '" + text + "' is not a YAML int");
  return CfgValue::of_int(decimal_normalize((negative ? "-" : "") + *magnitude));
}

CfgValue construct_yaml_float(const std::string& text) {
  std::string value = strip_underscores(text);
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double sign = 1.0;
  if (!value.empty() && (value[0] == '-' || value[0] == '+')) {
    if (value[0] == '-') sign = -1.0;
    value = value.substr(1);
  }
  if (value == ".inf") return CfgValue::of_float(sign * std::numeric_limits<double>::infinity());
  if (value == ".nan") return CfgValue::of_float(std::numeric_limits<double>::quiet_NaN());
  if (value.find(':') != std::string::npos) {
    double total = 0.0;
    std::size_t start = 0;
    while (true) {
      const std::size_t colon = value.find(':', start);
      total = total * 60.0 + std::strtod(value.substr(start, colon - start).c_str(), nullptr);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    return CfgValue::of_float(sign * total);
  }
  // Python's float(): digits, '.', exponent; nothing else (no hex, no 'inf' spelled out
  // here since the resolver never lets it through).
  if (!python_accepts_float(value) || value.find_first_of("xXpP") != std::string::npos) {
    throw InputError("xp.cfg: '" + text + "' is not a YAML float");
  }
  if (value == "inf" || value == "infinity") return CfgValue::of_float(sign * std::numeric_limits<double>::infinity());
  if (value == "nan") return CfgValue::of_float(std::numeric_limits<double>::quiet_NaN());
  return CfgValue::of_float(sign * std::strtod(value.c_str(), nullptr));
}

CfgValue omegaconf_plain_scalar(const std::string& text) {
  if (is_null_token(text)) return CfgValue::null();
  if (text.size() > 4096) return CfgValue::of_str(text);  // see dumper_reads_plain_as_str
  if (text == "=") {
    throw InputError("xp.cfg: could not determine a constructor for the tag 'tag:yaml.org,2002:value' ('=')");
  }
  if (full(text, bool_re())) return construct_yaml_bool(text);
  // PyYAML tries the resolvers filed under the first character in order: the YAML 1.1
  // float, then int, then omegaconf's float (timestamps are removed by omegaconf).
  if (full(text, float_re())) return construct_yaml_float(text);
  if (full(text, int_re())) return construct_yaml_int(text);
  if (full(text, omegaconf_float_re())) return construct_yaml_float(text);
  return CfgValue::of_str(text);
}

}  // namespace fsdpshard::config
