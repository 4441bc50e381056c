// The safetensors JSON header: parsing with every check docs/FORMATS.md §7 (and the reference
// implementation) makes, and producing it for the writer.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_set>

#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/safetensors.h"
#include "util/utf8.h"

namespace fsdpshard {
namespace {

// std::map-backed JSON: ordered_json looks keys up linearly, quadratic for headers with
// thousands of tensors. Header order comes from the parse callback instead.
using Json = nlohmann::json;
constexpr const char* kMetadataKey = "__metadata__";

std::string tensor_label(const std::string& name) { return "tensor '" + name + "'"; }

// product(shape) × element size, or false on overflow.
bool byte_size(const std::vector<uint64_t>& shape, DType dtype, uint64_t& out) {
  uint64_t total = element_size(dtype);
  for (uint64_t dim : shape) {
    if (dim != 0 && total > UINT64_MAX / dim) return false;
    total *= dim;
  }
  out = total;
  return true;
}

std::vector<uint64_t> unsigned_array(const Json& value, const std::string& label,
                                     const std::string& what) {
  if (!value.is_array()) throw InputError(label + ": " + what + " must be an array");
  std::vector<uint64_t> out;
  out.reserve(value.size());
  for (const Json& item : value) {
    if (!item.is_number_unsigned()) {
      throw InputError(label + ": " + what + " must hold non-negative integers");
    }
    out.push_back(item.get<uint64_t>());
  }
  return out;
}

SafetensorsEntry parse_entry(const std::string& name, const Json& info, const std::string& label) {
  const std::string where = label + ": " + tensor_label(name);
  if (!info.is_object()) throw InputError(where + ": expected an object");
  const auto dtype_it = info.find("dtype");
  const auto shape_it = info.find("shape");
  const auto offsets_it = info.find("data_offsets");
  if (dtype_it == info.end() || shape_it == info.end() || offsets_it == info.end()) {
    throw InputError(where + ": needs \"dtype\", \"shape\" and \"data_offsets\"");
  }
  if (!dtype_it->is_string()) throw InputError(where + ": dtype must be a string");
  const std::string dtype_name = dtype_it->get<std::string>();
  const auto dtype = dtype_from_safetensors_name(dtype_name);
  if (!dtype) throw InputError(where + ": unknown dtype '" + dtype_name + "'");
  SafetensorsEntry entry;
  entry.name = name;
  entry.dtype = *dtype;
  entry.shape = unsigned_array(*shape_it, where, "shape");
  const std::vector<uint64_t> offsets = unsigned_array(*offsets_it, where, "data_offsets");
  if (offsets.size() != 2 || offsets[0] > offsets[1]) {
    throw InputError(where + ": data_offsets must be [begin, end] with begin <= end");
  }
  entry.data_offset = offsets[0];
  entry.nbytes = offsets[1] - offsets[0];
  uint64_t expected = 0;
  if (!byte_size(entry.shape, entry.dtype, expected) || expected != entry.nbytes) {
    throw InputError(where + ": shape and dtype need " +
                     (byte_size(entry.shape, entry.dtype, expected) ? std::to_string(expected)
                                                                    : std::string("too many")) +
                     " bytes but data_offsets span " + std::to_string(entry.nbytes));
  }
  return entry;
}

// The data buffer is exactly the tensors' bytes, back to back: no gaps, no overlaps.
void check_layout(const std::vector<SafetensorsEntry>& entries, uint64_t buffer_size,
                  const std::string& label) {
  std::vector<std::size_t> order(entries.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return entries[a].data_offset < entries[b].data_offset;
  });
  uint64_t expected_begin = 0;
  for (std::size_t i : order) {
    const SafetensorsEntry& e = entries[i];
    if (e.data_offset != expected_begin) {
      throw InputError(label + ": " + tensor_label(e.name) + " starts at " +
                       std::to_string(e.data_offset) + " but the previous tensor ends at " +
                       std::to_string(expected_begin) + " (tensors must be contiguous)");
    }
    expected_begin = e.data_offset + e.nbytes;
  }
  if (expected_begin != buffer_size) {
    throw InputError(label + ": tensors cover " + std::to_string(expected_begin) +
                     " bytes but the data buffer has " + std::to_string(buffer_size) +
                     (expected_begin > buffer_size ? " (truncated file?)" : ""));
  }
}

}  // namespace

std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view json, uint64_t buffer_size,
                                                       const std::string& label,
                                                       SafetensorsMetadata* metadata) {
  // The JSON library keeps only one of two equal keys, and forgets their order: watch
  // the top-level keys as they are parsed to refuse duplicates and keep header order.
  std::vector<std::string> order;
  std::unordered_set<std::string> names;
  std::string duplicate;
  const Json::parser_callback_t watch = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      std::string key = parsed.get<std::string>();
      if (!names.insert(key).second) {
        if (duplicate.empty()) duplicate = key;
      } else {
        order.push_back(std::move(key));
      }
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(json.begin(), json.end(), watch);
  } catch (const Json::exception& e) {
    throw InputError(label + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!header.is_object()) throw InputError(label + ": header must be a JSON object");
  if (!duplicate.empty()) throw InputError(label + ": " + tensor_label(duplicate) + " appears twice");

  std::vector<SafetensorsEntry> entries;
  entries.reserve(order.size());
  for (const std::string& key : order) {
    const Json& value = header.at(key);
    if (key == kMetadataKey) {
      if (!value.is_object()) throw InputError(label + ": __metadata__ must be an object");
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string()) {
          throw InputError(label + ": __metadata__ value of '" + mkey + "' must be a string");
        }
        if (metadata) metadata->emplace_back(mkey, mvalue.get<std::string>());
      }
      continue;
    }
    entries.push_back(parse_entry(key, value, label));
  }
  check_layout(entries, buffer_size, label);
  return entries;
}

std::string make_safetensors_header(const std::vector<SafetensorsTensorSpec>& tensors,
                                    const SafetensorsMetadata& metadata) {
  // Built as text, key by key, to keep the given order (Json objects sort their keys).
  std::string text = "{";
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [key, value] : metadata) {
      utf8::require_for_json(key, "metadata key", "safetensors header");
      utf8::require_for_json(value, "metadata value of '" + utf8::printable(key) + "'", "safetensors header");
      if (meta.contains(key)) throw InputError("safetensors metadata key '" + key + "' given twice");
      meta[key] = value;
    }
    // Metadata keys in the given order too.
    std::string meta_text = "{";
    for (const auto& [key, value] : metadata) {
      if (meta_text.size() > 1) meta_text += ',';
      meta_text += Json(key).dump() + ":" + Json(value).dump();
    }
    meta_text += '}';
    text += Json(std::string(kMetadataKey)).dump() + ":" + meta_text;
  }
  std::unordered_set<std::string> seen;
  uint64_t offset = 0;
  for (const SafetensorsTensorSpec& t : tensors) {
    utf8::require_for_json(t.name, "tensor name", "safetensors header");
    if (t.name == kMetadataKey || !seen.insert(t.name).second) {
      throw InputError("safetensors: " + tensor_label(t.name) + " given twice or reserved");
    }
    const std::string_view dtype = safetensors_name(t.dtype);
    if (dtype.empty()) {
      throw InputError("safetensors: " + tensor_label(t.name) + " has dtype " +
                       std::string(torch_name(t.dtype)) + ", which safetensors cannot store");
    }
    uint64_t expected = 0;
    if (!byte_size(t.shape, t.dtype, expected) || expected != t.nbytes) {
      throw InputError("safetensors: " + tensor_label(t.name) + " has " + std::to_string(t.nbytes) +
                       " bytes, its shape and dtype need " + std::to_string(expected));
    }
    // Keys in the reference order: dtype, shape, data_offsets.
    std::string info = "{\"dtype\":" + Json(std::string(dtype)).dump() +
                       ",\"shape\":" + Json(t.shape).dump() + ",\"data_offsets\":[" +
                       std::to_string(offset) + "," + std::to_string(offset + t.nbytes) + "]}";
    if (text.size() > 1) text += ',';
    text += Json(t.name).dump() + ":" + info;
    offset += t.nbytes;
  }
  text += '}';
  // Spaces up to a multiple of 8, so the data buffer (after the 8-byte length) is 8-aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace fsdpshard
