#include "formats/shard_index.h"

#include <cstdio>

#include "config/utf8.h"

namespace fsdpshard {
namespace {

void append_u_escape(std::string& out, unsigned value) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "\\u%04x", value);  // Python writes lowercase hex digits
  out += hex;
}

// `{\n<indent+2>"k": v,\n...\n<indent>}`, or `{}` when empty, as json.dump(indent=2).
std::string object_lines(const std::vector<std::pair<std::string, std::string>>& items, const std::string& indent) {
  if (items.empty()) return "{}";
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i == 0 ? "\n" : ",\n";
    out += indent + "  " + python_json_string(items[i].first) + ": " + items[i].second;
  }
  return out + "\n" + indent + "}";
}

}  // namespace

std::string python_json_string(const std::string& utf8) {
  std::string out = "\"";
  for (char32_t cp : config::utf8_decode(utf8, "a tensor name or metadata string")) {
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (cp < 0x20 || cp > 0x7e) {
          // Python escapes everything outside ' '..'~' (DEL included); past the BMP as a
          // UTF-16 surrogate pair.
          if (cp >= 0x10000) {
            const char32_t v = cp - 0x10000;
            append_u_escape(out, 0xd800 + static_cast<unsigned>(v >> 10));
            append_u_escape(out, 0xdc00 + static_cast<unsigned>(v & 0x3ff));
          } else {
            append_u_escape(out, static_cast<unsigned>(cp));
          }
        } else {
          out += static_cast<char>(cp);
        }
    }
  }
  return out + "\"";
}

std::string shard_index_json(uint64_t total_size, const StringPairs& metadata, const StringPairs& weight_map) {
  std::vector<std::pair<std::string, std::string>> meta{{"total_size", std::to_string(total_size)}};
  for (const auto& [key, value] : metadata) meta.emplace_back(key, python_json_string(value));
  std::vector<std::pair<std::string, std::string>> map;
  for (const auto& [name, file] : weight_map) map.emplace_back(name, python_json_string(file));
  return object_lines({{"metadata", object_lines(meta, "  ")}, {"weight_map", object_lines(map, "  ")}}, "");
}

}  // namespace fsdpshard
