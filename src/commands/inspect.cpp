// `fsdpshard inspect CKPT`: what is in a checkpoint, for people or (--json) for programs.
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "fsdpshard/checkpoint.h"
#include "fsdpshard/commands.h"
#include "util/format.h"
#include "util/utf8.h"

namespace fsdpshard {
namespace {

using json = nlohmann::ordered_json;

// Python's module-qualified type name, as `type(x).__module__ + '.' + __qualname__`.
std::string python_qualname(const Graph& g, NodeId id) {
  std::string name = g.type_name(id);
  if (name == "torch.nn.Parameter") return "torch.nn.parameter.Parameter";
  if (name.find('.') == std::string::npos) return "builtins." + name;
  return name;
}

std::string short_type(const std::string& qualname) { return qualname.substr(qualname.rfind('.') + 1); }

json shape_json(const std::vector<int64_t>& sizes) {
  json shape = json::array();
  for (int64_t s : sizes) shape.push_back(s);
  return shape;
}

// The zip record holding a tensor's bytes, or the file of a safetensors/shard-set input.
std::string record_name(const Checkpoint& ckpt, const StorageRef& storage) {
  if (ckpt.is_torch_file()) return "data/" + storage.key;
  return std::filesystem::path(ckpt.inputs()[ckpt.storage_location(storage).input]).filename().string();
}

json build_report(const Checkpoint& ckpt, const InspectOptions& options) {
  const Graph& g = ckpt.graph();
  json report;
  report["file"] = ckpt.path();
  report["layout"] = layout_name(ckpt.layout());
  json top = json::array();
  if (g.is_mapping(ckpt.root())) {
    for (const auto& [key, value] : g.at(ckpt.root()).entries) {
      const Node& k = g.at(key);
      const std::string qualname = python_qualname(g, value);
      top.push_back({{"key", k.kind == NodeKind::Str ? k.text : g.type_name(key)},
                     {"type", short_type(qualname)},
                     {"qualname", qualname}});
    }
  } else {
    const std::string qualname = python_qualname(g, ckpt.root());
    top.push_back({{"key", ""}, {"type", short_type(qualname)}, {"qualname", qualname}, {"root", true}});
  }
  report["top_level"] = top;

  json state_dicts = json::array();
  json tensors = json::array();
  for (const StateDict& sd : ckpt.state_dicts()) {
    std::map<std::string, int> histogram;
    for (const auto& t : sd.tensors) histogram[std::string(torch_name(t.tensor.dtype))] += 1;
    json dtypes = json::object();
    for (const auto& [name, count] : histogram) dtypes[name] = count;
    state_dicts.push_back({{"path", sd.path},
                           {"tensors", sd.tensors.size()},
                           {"bytes", sd.nbytes()},
                           {"dtypes", dtypes}});
    if (!options.tensors) continue;
    for (const auto& t : sd.tensors) {
      tensors.push_back({{"name", t.name},
                         {"source", sd.path},
                         {"dtype", torch_name(t.tensor.dtype)},
                         {"shape", shape_json(t.tensor.sizes)},
                         {"bytes", t.tensor.nbytes()},
                         {"record", record_name(ckpt, t.tensor.storage)},
                         {"parameter", t.tensor.parameter}});
    }
  }
  report["state_dicts"] = state_dicts;
  if (options.tensors) report["tensors"] = tensors;
  if (options.cfg) {
    const auto yaml = ckpt.cfg_yaml();
    report["cfg"] = yaml ? json(*yaml) : json(nullptr);
  }
  json globals = json::array();
  for (const GlobalUse& use : ckpt.globals()) {
    globals.push_back({{"name", use.name}, {"weights_only_safe", use.weights_only_safe}});
  }
  report["globals"] = globals;
  return report;
}

// A key for people: '' for the empty one, lone surrogates and stray bytes escaped.
std::string shown_key(const std::string& key) { return key.empty() ? "''" : utf8::printable(key); }

void print_human(const json& report) {
  std::printf("%s\n", report["file"].get<std::string>().c_str());
  std::printf("layout: %s\n", report["layout"].get<std::string>().c_str());
  std::printf("\ntop-level entries:\n");
  for (const auto& entry : report["top_level"]) {
    const std::string key = entry.contains("root") ? "<root>" : shown_key(entry["key"].get<std::string>());
    std::printf("  %-24s %s\n", key.c_str(), entry["qualname"].get<std::string>().c_str());
  }
  std::printf("\nstate dicts:\n");
  if (report["state_dicts"].empty()) std::printf("  (none)\n");
  for (const auto& sd : report["state_dicts"]) {
    std::string dtypes;
    for (const auto& [name, count] : sd["dtypes"].items()) {
      dtypes += (dtypes.empty() ? "" : ", ") + name + " x" + std::to_string(count.get<int>());
    }
    const std::string path = sd["path"].get<std::string>();
    std::printf("  %-24s %6zu tensors %12s  %s\n", path.empty() ? "<whole file>" : path.c_str(),
                sd["tensors"].get<std::size_t>(), human_bytes(sd["bytes"].get<uint64_t>()).c_str(),
                dtypes.c_str());
  }
  if (report.contains("tensors")) {
    std::printf("\ntensors:\n");
    for (const auto& t : report["tensors"]) {
      std::string shape;
      for (const auto& s : t["shape"]) shape += (shape.empty() ? "" : ", ") + std::to_string(s.get<int64_t>());
      std::printf("  %s[%s]  %-9s [%s]  %s  %s\n", t["source"].get<std::string>().c_str(),
                  shown_key(t["name"].get<std::string>()).c_str(), t["dtype"].get<std::string>().c_str(),
                  shape.c_str(), human_bytes(t["bytes"].get<uint64_t>()).c_str(),
                  t["record"].get<std::string>().c_str());
    }
  }
  if (report.contains("cfg")) {
    std::printf("\nxp.cfg:\n");
    if (report["cfg"].is_null()) std::printf("  (none)\n");
    else std::fputs(report["cfg"].get<std::string>().c_str(), stdout);
  }
  std::printf("\npython globals referenced (nothing was imported or run):\n");
  for (const auto& use : report["globals"]) {
    const bool safe = use["weights_only_safe"].get<bool>();
    std::printf("  %-52s %s\n", use["name"].get<std::string>().c_str(),
                safe ? "" : "refused by torch.load(weights_only=True)");
  }
}

}  // namespace

int run_inspect(const InspectOptions& options) {
  const Checkpoint ckpt(options.path);
  const json report = build_report(ckpt, options);
  if (options.json) {
    // Keys and strings that are not UTF-8 (lone surrogates torch files can hold, stray
    // bytes) get U+FFFD for each byte that is not UTF-8, as Python's 'replace' decoding:
    // JSON text must be UTF-8.
    std::printf("%s\n", report.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    print_human(report);
  }
  return 0;
}

}  // namespace fsdpshard
