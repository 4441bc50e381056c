// `fsdpshard inspect CKPT`: what is in a checkpoint, for people or (--json) for programs.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/commands/commands.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/torch_pickle/global_scan.h"
#include "fsdpshard/source/open_source.h"
#include "fsdpshard/source/recognize_input.h"
#include "fsdpshard/pickle/unpickler.h"
#include "fsdpshard/archive/zip_reader.h"
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
  const StorageLocation where = ckpt.storage_location(storage);
  return std::filesystem::path(ckpt.inputs()[where.segments.front().input]).filename().string();
}

// Every global the input's pickle (and, for a shard set, each torch shard's) names, with
// where it sits and its verdict; paths in a shard are prefixed with the shard's file name.
json globals_json(const Checkpoint& ckpt) {
  std::map<std::string, GlobalSite> merged;
  auto add = [&](const std::vector<GlobalSite>& sites, const std::string& prefix) {
    for (const GlobalSite& site : sites) {
      GlobalSite& into = merged[site.name];
      if (into.uses == 0) {
        into.name = site.name;
        into.verdict = site.verdict;
      }
      into.uses += site.uses;
      for (const auto& path : site.paths) {
        if (into.paths.size() < kScanPaths) into.paths.push_back(prefix + path);
      }
    }
  };
  add(scan_globals(ckpt.graph(), ckpt.root(), kScanPaths, true), "");
  for (const MemberScan& member : ckpt.member_scans()) {
    add(member.globals, std::filesystem::path(member.file).filename().string() + ": ");
  }
  json globals = json::array();
  for (const auto& [name, site] : merged) {
    globals.push_back({{"name", name},
                       {"weights_only_safe", site.verdict == GlobalVerdict::WeightsOnlySafe},
                       {"verdict", verdict_name(site.verdict)},
                       {"uses", site.uses},
                       {"paths", site.paths}});
  }
  return globals;
}

json irregular_json(const Checkpoint& ckpt) {
  json out = json::array();
  for (const IrregularTensor& t : scan_irregular_tensors(ckpt.graph(), ckpt.root())) {
    out.push_back({{"path", t.path}, {"problem", t.problem}});
  }
  for (const MemberScan& member : ckpt.member_scans()) {
    for (const IrregularTensor& t : member.irregular) {
      out.push_back({{"path", std::filesystem::path(member.file).filename().string() + ": " + t.path},
                     {"problem", t.problem}});
    }
  }
  return out;
}

// What torch.load(weights_only=False) of the input could run: the globals that can run
// code, and the tensors whose rebuild call torch.save would not write.
bool unsafe(const json& report) {
  for (const auto& use : report["globals"]) {
    if (use["verdict"] == verdict_name(GlobalVerdict::CanRunCode)) return true;
  }
  return !report["irregular_tensors"].empty();
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
  report["globals"] = globals_json(ckpt);
  report["irregular_tensors"] = irregular_json(ckpt);
  report["can_run_code"] = unsafe(report);
  return report;
}

// A key for people: '' for the empty one, lone surrogates and stray bytes escaped.
std::string shown_key(const std::string& key) { return key.empty() ? "''" : utf8::printable(key); }

// One line per global: name, verdict, where. `only_unsafe`: just those that can run code.
void print_globals(const json& report, bool only_unsafe) {
  for (const auto& use : report["globals"]) {
    const bool can_run = use["verdict"] == verdict_name(GlobalVerdict::CanRunCode);
    if (only_unsafe && !can_run) continue;
    std::string where;
    for (const auto& path : use["paths"]) where += (where.empty() ? "" : ", ") + path.get<std::string>();
    const uint64_t uses = use["uses"].get<uint64_t>();
    if (uses > use["paths"].size()) where += ", … (" + std::to_string(uses) + " uses)";
    const char* says = can_run ? "CAN RUN CODE when torch.load(weights_only=False) reads it"
                       : use["weights_only_safe"].get<bool>()
                           ? "weights-only-safe"
                           : "allowed-by-fsdpshard: runs no code; refused by torch.load(weights_only=True)";
    std::printf("  %-44s %s\n      at %s\n", use["name"].get<std::string>().c_str(), says, where.c_str());
  }
  for (const auto& t : report["irregular_tensors"]) {
    std::printf("  tensor %s: %s\n", t["path"].get<std::string>().c_str(), t["problem"].get<std::string>().c_str());
  }
}

// --scan: the findings and one verdict line; the exit code says it for scripts.
int print_scan(const json& report) {
  const bool bad = report["can_run_code"].get<bool>();
  if (bad) print_globals(report, true);
  std::size_t not_weights_only = 0;
  for (const auto& use : report["globals"]) not_weights_only += use["weights_only_safe"].get<bool>() ? 0 : 1;
  std::printf("%s: %s\n", report["file"].get<std::string>().c_str(),
              bad ? "UNSAFE: torch.load(weights_only=False) of it could run code"
                  : not_weights_only == 0 ? "clean: every global is on torch's weights_only list"
                                          : "clean: no global can run code (some are outside torch's weights_only "
                                            "list; fsdpshard allows them)");
  return bad ? 1 : 0;
}

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
  print_globals(report, false);
}

// --scan of a torch.save file that is no checkpoint fsdpshard can open (a tensor whose
// storage is a call, say): its pickle alone still says what torch.load would import, as
// picklescan reads it. Exit 1 when that can run code; else the file's own error (exit 2).
int scan_unopenable(const std::string& path, const InputError& why) {
  Graph graph;
  try {
    const RecognizedInput in = recognize_input(path);
    if (in.kind != InputKind::TorchSave && in.kind != InputKind::FsdpSet) throw why;
    const ZipReader zip(in.file);
    unpickle(zip.read(zip.require("data.pkl")), graph, path + ": data.pkl");
  } catch (const InputError&) {
    throw why;
  }
  json report;
  report["file"] = path;
  json globals = json::array();
  for (const GlobalSite& site : scan_globals(graph, graph.root, kScanPaths, true)) {
    globals.push_back({{"name", site.name},
                       {"weights_only_safe", site.verdict == GlobalVerdict::WeightsOnlySafe},
                       {"verdict", verdict_name(site.verdict)},
                       {"uses", site.uses},
                       {"paths", site.paths}});
  }
  report["globals"] = globals;
  report["irregular_tensors"] = json::array();
  report["can_run_code"] = unsafe(report);
  if (!report["can_run_code"].get<bool>()) throw why;
  std::printf("%s\n", why.what());
  return print_scan(report);
}

}  // namespace

int run_inspect(const InspectOptions& options) {
  if (options.scan && !options.json) {
    std::unique_ptr<Checkpoint> opened;
    try {
      opened = open_source(options.path);
    } catch (const InputError& e) {
      return scan_unopenable(options.path, e);
    }
    return print_scan(build_report(*opened, options));
  }
  const std::unique_ptr<Checkpoint> ckpt = open_source(options.path);
  const json report = build_report(*ckpt, options);
  if (options.json) {
    // Keys and strings that are not UTF-8 (lone surrogates torch files can hold, stray
    // bytes) get U+FFFD for each byte that is not UTF-8, as Python's 'replace' decoding:
    // JSON text must be UTF-8.
    std::printf("%s\n", report.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    print_human(report);
  }
  return options.scan && report["can_run_code"].get<bool>() ? 1 : 0;
}

}  // namespace fsdpshard
