// A plain config tree: what OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
// gives in Python. Every xp.cfg path goes through it: DictConfig graph -> CfgValue -> YAML,
// YAML -> CfgValue -> YAML or -> DictConfig graph. Interpolations and '???' are strings.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace fsdpshard::config {

struct CfgValue {
  enum class Kind { Null, Bool, Int, Float, Str, Bytes, Map, List };

  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0.0;  // Float
  // Int: decimal text ("-12", any size, as Python's ints are unbounded);
  // Str: UTF-8; Bytes: raw bytes.
  std::string text;
  // Map: keys[i] -> values[i], in insertion order. Keys are Str/Int/Float/Bool scalars.
  std::vector<CfgValue> keys;
  // Map values, or List items.
  std::vector<CfgValue> values;

  static CfgValue null() { return CfgValue{}; }
  static CfgValue of_bool(bool b) { CfgValue v; v.kind = Kind::Bool; v.boolean = b; return v; }
  static CfgValue of_int(std::string decimal) { CfgValue v; v.kind = Kind::Int; v.text = std::move(decimal); return v; }
  static CfgValue of_float(double d) { CfgValue v; v.kind = Kind::Float; v.number = d; return v; }
  static CfgValue of_str(std::string s) { CfgValue v; v.kind = Kind::Str; v.text = std::move(s); return v; }
  static CfgValue of_bytes(std::string s) { CfgValue v; v.kind = Kind::Bytes; v.text = std::move(s); return v; }
  static CfgValue map() { CfgValue v; v.kind = Kind::Map; return v; }
  static CfgValue list() { CfgValue v; v.kind = Kind::List; return v; }

  bool is_map() const { return kind == Kind::Map; }
  bool is_list() const { return kind == Kind::List; }
  bool is_scalar() const { return kind != Kind::Map && kind != Kind::List; }
};

// Python dict-key equality: 1 == 1.0 == True, 'a' == 'a'; different kinds otherwise differ.
bool same_key(const CfgValue& a, const CfgValue& b);

// Index of `key` in a Map, or -1.
long find_key(const CfgValue& map, const CfgValue& key);

// Sets map[key] = value the way a Python dict does (an equal key keeps its place).
void put(CfgValue& map, CfgValue key, CfgValue value);

// Positions of a Map's keys, for many lookups in one map: a string key (the usual kind)
// is hashed, others are searched as find_key does. Merging n keys into a map of m then
// costs n + m, not n·m (a --merge of 10^5 keys took minutes). Valid while keys are only
// appended, through put().
class KeyPositions {
 public:
  explicit KeyPositions(const CfgValue& map);
  long find(const CfgValue& map, const CfgValue& key) const;  // as find_key(map, key)
  void put(CfgValue& map, CfgValue key, CfgValue value);      // as put(map, key, value)

 private:
  std::unordered_map<std::string, long> strings_;
};

// Human-readable form of a key for error messages.
std::string key_text(const CfgValue& key);

}  // namespace fsdpshard::config
