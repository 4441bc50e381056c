#include "config/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "config/expansion_budget.h"
#include "config/yaml_scalar_types.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

namespace {

constexpr const char* kYamlTag = "tag:yaml.org,2002:";

class Reader {
 public:
  explicit Reader(std::string what) : what_(what), budget_(std::move(what)) {}

  CfgValue value(const YAML::Node& node, int depth) {
    if (depth > kMaxCfgDepth) throw InputError(what_ + ": nesting deeper than " + std::to_string(kMaxCfgDepth));
    // An alias is the node it names once more: charging every use is what bounds a
    // billion-laughs text, which yaml-cpp itself holds as a few shared nodes.
    budget_.charge(node.IsScalar() ? node.Scalar().size() : 0);
    const std::string tag = node.Tag();
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        if (is_tag(tag, "str")) return CfgValue::of_str("");
        return CfgValue::null();
      case YAML::NodeType::Scalar:
        return scalar(node.Scalar(), tag);
      case YAML::NodeType::Sequence: {
        check_tag(tag, "seq");
        CfgValue list = CfgValue::list();
        for (const YAML::Node& item : node) list.values.push_back(value(item, depth + 1));
        return list;
      }
      case YAML::NodeType::Map:
        check_tag(tag, "map");
        return mapping(node, depth);
    }
    return CfgValue::null();
  }

 private:
  static bool is_tag(const std::string& tag, const char* name) { return tag == std::string(kYamlTag) + name; }

  void check_tag(const std::string& tag, const char* name) {
    if (tag.empty() || tag == "?" || tag == "!" || is_tag(tag, name)) return;
    throw InputError(what_ + ": unsupported YAML tag '" + tag + "'");
  }

  CfgValue scalar(const std::string& text, const std::string& tag) {
    if (tag == "?" || tag.empty()) {  // plain
      // Typing runs several regexes; an aliased scalar is typed once, not at every use.
      const auto known = plain_types_.find(text);
      if (known != plain_types_.end()) return known->second;
      return plain_types_.emplace(text, omegaconf_plain_scalar(text)).first->second;
    }
    if (tag == "!" || is_tag(tag, "str")) return CfgValue::of_str(text);  // quoted / block / !!str
    if (is_tag(tag, "int")) return construct_yaml_int(text);
    if (is_tag(tag, "float")) return construct_yaml_float(text);
    if (is_tag(tag, "bool")) return construct_yaml_bool(text);
    if (is_tag(tag, "null")) return CfgValue::null();
    if (is_tag(tag, "binary")) {
      // yaml-cpp 0.7's DecodeBase64 indexes its table with a signed char: a byte >= 0x80
      // reads outside it (SEGV, found by fuzz_yaml_config). Only the alphabet goes in.
      for (const char c : text) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=' &&
            !std::isspace(static_cast<unsigned char>(c))) {
          throw InputError(what_ + ": bad !!binary data (not base64)");
        }
      }
      const std::vector<unsigned char> bytes = YAML::DecodeBase64(text);
      if (bytes.empty() && text.find_first_not_of(" \t\r\n") != std::string::npos) {
        throw InputError(what_ + ": bad !!binary data");
      }
      return CfgValue::of_bytes(std::string(bytes.begin(), bytes.end()));
    }
    throw InputError(what_ + ": unsupported YAML tag '" + tag + "'");
  }

  // '<<' merge keys as PyYAML's flatten_mapping does: merged entries come first (later
  // sources before earlier ones in a list), then the mapping's own entries override them.
  CfgValue mapping(const YAML::Node& node, int depth) {
    CfgValue merged = CfgValue::map();
    CfgValue own = CfgValue::map();
    std::unordered_set<std::string> seen_str_keys;  // a set: a long mapping must not cost n^2
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies (Node is a handle): `it->` yields a proxy that dies with this statement,
      // so references to its members dangle (ASan: stack-use-after-scope, found by fuzzing).
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (k.IsScalar() && (k.Tag() == "?" || k.Tag().empty()) && k.Scalar() == "<<") {
        if (v.IsMap()) {
          merge_into(merged, mapping(v, depth + 1));
        } else if (v.IsSequence()) {
          std::vector<CfgValue> sources;
          for (const YAML::Node& s : v) {
            if (!s.IsMap()) throw InputError(what_ + ": '<<' expects a mapping or a list of mappings");
            sources.push_back(mapping(s, depth + 1));
          }
          for (auto s = sources.rbegin(); s != sources.rend(); ++s) merge_into(merged, *s);
        } else {
          throw InputError(what_ + ": '<<' expects a mapping or a list of mappings");
        }
        continue;
      }
      CfgValue key = value(k, depth + 1);
      if (!key.is_scalar() || key.kind == CfgValue::Kind::Bytes) {
        throw InputError(what_ + ": mapping keys must be strings, numbers or booleans");
      }
      if (key.kind == CfgValue::Kind::Null) {
        throw InputError(what_ + ": a null mapping key is not allowed (omegaconf: Incompatible key type 'NoneType')");
      }
      if (key.kind == CfgValue::Kind::Str) {
        // omegaconf's loader rejects repeated string keys (other key types may repeat).
        if (!seen_str_keys.insert(key.text).second) throw InputError(what_ + ": found duplicate key " + key.text);
        // A new string key equals no other key (1 == 1.0 == True concerns numbers only):
        // append without put()'s linear search.
        own.keys.push_back(std::move(key));
        own.values.push_back(value(v, depth + 1));
        continue;
      }
      put(own, std::move(key), value(v, depth + 1));
    }
    if (merged.keys.empty()) return own;
    merge_into(merged, own);
    return merged;
  }

  static void merge_into(CfgValue& target, const CfgValue& source) {
    KeyPositions positions(target);
    for (std::size_t i = 0; i < source.keys.size(); ++i) positions.put(target, source.keys[i], source.values[i]);
  }

  std::string what_;
  ExpansionBudget budget_;
  std::unordered_map<std::string, CfgValue> plain_types_;  // plain scalar text -> its typed value
};

// A parser's events, dropped: for counting documents without building them.
class IgnoreEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

CfgValue parse_yaml_value(const std::string& text, const std::string& what) {
  YAML::Node doc;
  try {
    // YAML::LoadAll never returns on a stray ',' (yaml-cpp 0.7 yields empty documents
    // forever; found by fuzz_yaml_config): count at most two documents ourselves, then
    // build the one there is.
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    IgnoreEvents ignore;
    int documents = 0;
    while (documents < 2 && parser.HandleNextDocument(ignore)) ++documents;
    if (documents > 1) throw InputError(what + ": expected one YAML document, found more");
    if (documents == 0) return CfgValue::null();
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(what + ": invalid YAML: " + e.what());
  }
  return Reader(what).value(doc, 0);
}

CfgValue parse_yaml_config(const std::string& text, const std::string& what) {
  CfgValue v = parse_yaml_value(text, what);
  if (v.kind == CfgValue::Kind::Null) return CfgValue::map();
  if (!v.is_map() && !v.is_list()) {
    throw InputError(what + ": the YAML text is a single value, not a mapping");
  }
  return v;
}

}  // namespace fsdpshard::config
