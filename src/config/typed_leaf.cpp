#include "config/typed_leaf.h"

#include <cstdlib>
#include <limits>

#include "config/python_numbers.h"
#include "config/utf8.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

namespace {

std::string python_type(const CfgValue& v) {
  switch (v.kind) {
    case CfgValue::Kind::Null: return "NoneType";
    case CfgValue::Kind::Bool: return "bool";
    case CfgValue::Kind::Int: return "int";
    case CfgValue::Kind::Float: return "float";
    case CfgValue::Kind::Str: return "str";
    case CfgValue::Kind::Bytes: return "bytes";
    case CfgValue::Kind::Map: return "dict";
    case CfgValue::Kind::List: return "list";
  }
  return "object";
}

std::string shown(const CfgValue& v) {
  if (v.kind == CfgValue::Kind::Str || v.kind == CfgValue::Kind::Int) return v.text;
  if (v.kind == CfgValue::Kind::Float) return python_float_repr(v.number);
  if (v.kind == CfgValue::Kind::Bool) return v.boolean ? "True" : "False";
  if (v.kind == CfgValue::Kind::Null) return "None";
  return "<" + python_type(v) + ">";
}

[[noreturn]] void refuse(const std::string& path, const std::string& cls, const CfgValue& v,
                         const std::string& target) {
  throw InputError(path + ": " + cls + " refuses value '" + shown(v) + "' of type '" +
                   python_type(v) + "': it could not be converted to " + target);
}

}  // namespace

CfgValue convert_for_leaf(const std::string& cls, const CfgValue& value, bool optional,
                          const std::string& path) {
  if (value.kind == CfgValue::Kind::Str &&
      (value.text == "???" || value.text.find("${") != std::string::npos)) {
    return value;  // missing / interpolation: any node type may hold them
  }
  if (value.kind == CfgValue::Kind::Null) {
    if (!optional) throw InputError(path + ": " + cls + " is not optional: cannot be set to null");
    return value;
  }
  if (!value.is_scalar()) {
    if (cls == "AnyNode") return value;
    throw InputError(path + ": a " + cls + " cannot hold a " + python_type(value));
  }
  if (cls == "AnyNode") return value;
  if (cls == "StringNode") {
    if (value.kind == CfgValue::Kind::Bytes) refuse(path, cls, value, "str");
    return CfgValue::of_str(shown(value));
  }
  if (cls == "IntegerNode") {
    if (value.kind == CfgValue::Kind::Int) return value;
    if (value.kind == CfgValue::Kind::Str && python_accepts_int(value.text)) {
      std::string digits = python_number_text(value.text);
      bool negative = false;
      if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
        negative = digits[0] == '-';
        digits = digits.substr(1);
      }
      return CfgValue::of_int(decimal_normalize((negative ? "-" : "") + *digits_to_decimal(digits, 10)));
    }
    refuse(path, cls, value, "int");
  }
  if (cls == "FloatNode") {
    if (value.kind == CfgValue::Kind::Float) return value;
    if (value.kind == CfgValue::Kind::Int) return CfgValue::of_float(std::strtod(value.text.c_str(), nullptr));
    if (value.kind == CfgValue::Kind::Str && python_accepts_float(value.text)) {
      std::string t = python_number_text(value.text);
      std::string lower;
      for (char c : t) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      const bool negative = !lower.empty() && lower[0] == '-';
      const std::string body = (!lower.empty() && (lower[0] == '-' || lower[0] == '+')) ? lower.substr(1) : lower;
      if (body == "inf" || body == "infinity") {
        return CfgValue::of_float(negative ? -std::numeric_limits<double>::infinity()
                                           : std::numeric_limits<double>::infinity());
      }
      if (body == "nan") return CfgValue::of_float(std::numeric_limits<double>::quiet_NaN());
      return CfgValue::of_float(std::strtod(t.c_str(), nullptr));
    }
    refuse(path, cls, value, "float");
  }
  if (cls == "BooleanNode") {
    if (value.kind == CfgValue::Kind::Bool) return value;
    if (value.kind == CfgValue::Kind::Int) return CfgValue::of_bool(decimal_normalize(value.text) != "0");
    if (value.kind == CfgValue::Kind::Str) {
      if (python_accepts_int(value.text)) {
        const std::string digits = python_number_text(value.text);
        return CfgValue::of_bool(digits.find_first_not_of("+-0") != std::string::npos);
      }
      std::string lower;
      for (char c : value.text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      if (lower == "yes" || lower == "y" || lower == "on" || lower == "true") return CfgValue::of_bool(true);
      if (lower == "no" || lower == "n" || lower == "off" || lower == "false") return CfgValue::of_bool(false);
    }
    refuse(path, cls, value, "bool");
  }
  if (cls == "BytesNode" && value.kind == CfgValue::Kind::Bytes) return value;
  throw InputError(path + ": cannot set a " + cls +
                   " (its Python type is not known without importing it); use --unset and --set");
}

}  // namespace fsdpshard::config
