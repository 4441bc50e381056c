#include "config/cfg_value.h"

#include <cmath>
#include <cstdlib>

#include "config/python_numbers.h"

namespace fsdpshard::config {

namespace {

// The numeric value of a Bool/Int/Float key, for Python's cross-type equality. Ints too
// large for a double compare by text instead (see same_key).
bool numeric(const CfgValue& v, double& out) {
  switch (v.kind) {
    case CfgValue::Kind::Bool: out = v.boolean ? 1.0 : 0.0; return true;
    case CfgValue::Kind::Float: out = v.number; return true;
    case CfgValue::Kind::Int: out = std::strtod(v.text.c_str(), nullptr); return true;
    default: return false;
  }
}

}  // namespace

bool same_key(const CfgValue& a, const CfgValue& b) {
  if (a.kind == CfgValue::Kind::Str || b.kind == CfgValue::Kind::Str ||
      a.kind == CfgValue::Kind::Bytes || b.kind == CfgValue::Kind::Bytes) {
    return a.kind == b.kind && a.text == b.text;
  }
  if (a.kind == CfgValue::Kind::Null || b.kind == CfgValue::Kind::Null) return a.kind == b.kind;
  if (a.kind == CfgValue::Kind::Int && b.kind == CfgValue::Kind::Int) return a.text == b.text;
  double x = 0, y = 0;
  if (!numeric(a, x) || !numeric(b, y)) return false;
  return x == y;
}

long find_key(const CfgValue& map, const CfgValue& key) {
  for (std::size_t i = 0; i < map.keys.size(); ++i) {
    if (same_key(map.keys[i], key)) return static_cast<long>(i);
  }
  return -1;
}

void put(CfgValue& map, CfgValue key, CfgValue value) {
  const long at = find_key(map, key);
  if (at >= 0) {
    map.values[at] = std::move(value);
    return;
  }
  map.keys.push_back(std::move(key));
  map.values.push_back(std::move(value));
}

KeyPositions::KeyPositions(const CfgValue& map) {
  for (std::size_t i = 0; i < map.keys.size(); ++i) {
    if (map.keys[i].kind == CfgValue::Kind::Str) strings_.emplace(map.keys[i].text, static_cast<long>(i));
  }
}

long KeyPositions::find(const CfgValue& map, const CfgValue& key) const {
  if (key.kind != CfgValue::Kind::Str) return find_key(map, key);
  // A string key equals only the same string (same_key), so the hash answers exactly.
  const auto it = strings_.find(key.text);
  return it == strings_.end() ? -1 : it->second;
}

void KeyPositions::put(CfgValue& map, CfgValue key, CfgValue value) {
  const long at = find(map, key);
  if (at >= 0) {
    map.values[at] = std::move(value);
    return;
  }
  if (key.kind == CfgValue::Kind::Str) strings_.emplace(key.text, static_cast<long>(map.keys.size()));
  map.keys.push_back(std::move(key));
  map.values.push_back(std::move(value));
}

std::string key_text(const CfgValue& key) {
  switch (key.kind) {
    case CfgValue::Kind::Str: return key.text;
    case CfgValue::Kind::Int: return key.text;
    case CfgValue::Kind::Float: return python_float_repr(key.number);
    case CfgValue::Kind::Bool: return key.boolean ? "True" : "False";
    case CfgValue::Kind::Null: return "None";
    default: return "<key>";
  }
}

}  // namespace fsdpshard::config
