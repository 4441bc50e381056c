#include "fsdpshard/source/fsdp_ranks.h"

#include <filesystem>
#include <map>
#include <optional>
#include <regex>

#include "config/yaml_reader.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/source/resolve_source.h"
#include "fsdpshard/source/recognize_input.h"

namespace fsdpshard {
namespace fs = std::filesystem;

namespace {

const std::regex& rank_suffix() {
  static const std::regex re(R"(.*\.th\.([0-9]+)$)");
  return re;
}

uint64_t numel_of(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t s : shape) n *= static_cast<uint64_t>(s);
  return n;
}

// xp.cfg's fsdp.param_dtype (the dtype FSDP computes in, which sets the alignment).
std::optional<DType> cfg_param_dtype(const Checkpoint& rank0) {
  const auto yaml = rank0.cfg_yaml();
  if (!yaml) return std::nullopt;
  const config::CfgValue cfg = config::parse_yaml_config(*yaml, rank0.path() + ": xp.cfg");
  auto get = [](const config::CfgValue& map, const std::string& key) -> const config::CfgValue* {
    if (!map.is_map()) return nullptr;
    for (std::size_t i = 0; i < map.keys.size(); ++i) {
      if (map.keys[i].kind == config::CfgValue::Kind::Str && map.keys[i].text == key) return &map.values[i];
    }
    return nullptr;
  };
  const config::CfgValue* fsdp = get(cfg, "fsdp");
  const config::CfgValue* dtype = fsdp ? get(*fsdp, "param_dtype") : nullptr;
  if (!dtype || dtype->kind != config::CfgValue::Kind::Str) return std::nullopt;
  return dtype_from_torch_name(dtype->text);
}

// The first disagreement between the pieces and the layout for `world`, or "" when none.
// Only ranks < `check_ranks` are looked at (rank 0 alone when guessing the world size).
std::string mismatch(const ShardedState& s, const std::vector<FlatUnit>& units,
                     const std::vector<std::size_t>& unit_of, const std::vector<std::size_t>& position,
                     int check_ranks, const std::vector<std::string>& paths) {
  for (int r = 0; r < check_ranks; ++r) {
    for (std::size_t i = 0; i < s.names.size(); ++i) {
      const FlatUnit& u = units[unit_of[i]];
      const FlatPiece want = u.piece(position[i], r);
      const TensorRef& t = s.piece(i, r).tensor;
      const std::string where = paths[r] + ": " + s.path + "['" + s.names[i] + "']";
      if (t.numel() != want.count) {
        return where + " holds " + std::to_string(t.numel()) + " elements; the layout predicts " +
               std::to_string(want.count) + " (unit '" + u.name + "', flat size " + std::to_string(u.padded_numel) +
               ", world size " + std::to_string(u.world) + ")";
      }
      if (want.count == 0) continue;
      if (t.sizes.size() != 1 || !t.contiguous()) return where + " is not a 1-D contiguous piece";
      // A view of the whole shard (the model's own pieces) also shows where it starts.
      if (t.storage.numel == u.shard_numel && t.storage_offset != want.shard_offset) {
        return where + " starts at element " + std::to_string(t.storage_offset) + " of the rank's shard; the layout "
               "predicts " + std::to_string(want.shard_offset);
      }
    }
  }
  return "";
}

}  // namespace

std::string fsdp_rank0_path(const std::string& input) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) return (fs::path(input) / "checkpoint.th").string();
  return input;
}

bool looks_like_rank0(const std::string& input) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) return fs::exists(fs::path(input) / "checkpoint.th", ec);
  return is_rank_file_name(input);
}

FsdpRankFiles open_rank_files(const std::string& input) {
  const std::string first = fsdp_rank0_path(input);
  std::smatch m;
  if (std::regex_match(first, m, rank_suffix()) && m.str(1) != "0") {
    throw InputError(input + " is rank " + m.str(1) + "'s file; give rank 0's file (" +
                     first.substr(0, first.size() - m.str(1).size() - 1) + ") or the folder");
  }
  std::error_code ec;
  if (!fs::exists(first, ec)) throw InputError(first + ": no such file");
  FsdpRankFiles files;
  files.paths.push_back(first);
  while (fs::exists(first + "." + std::to_string(files.paths.size()), ec)) {
    files.paths.push_back(first + "." + std::to_string(files.paths.size()));
  }
  // A higher-numbered file past a gap means one in between is missing.
  const fs::path folder = fs::path(first).parent_path().empty() ? fs::path(".") : fs::path(first).parent_path();
  const std::string base = fs::path(first).filename().string();
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= base.size() + 1 || name.compare(0, base.size() + 1, base + ".") != 0) continue;
    const std::string suffix = name.substr(base.size() + 1);
    if (suffix.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::stoull(suffix) >= files.paths.size()) {
      throw InputError("rank file " + entry.path().string() + " is there but " + first + "." +
                       std::to_string(files.paths.size()) + " is missing");
    }
  }
  for (const auto& p : files.paths) files.ranks.push_back(std::make_unique<Checkpoint>(p));
  return files;
}

ShardedState open_sharded_state(const FsdpRankFiles& files, const std::string& path, const FsdpOptions& options) {
  ShardedState s;
  s.path = path;
  if (!options.units.empty()) s.rules = FsdpUnitRules(options.units);
  for (const auto& ckpt : files.ranks) s.per_rank.push_back(ckpt->state_dict_at(path));
  const Checkpoint& rank0 = *files.ranks[0];

  // Full shapes: rank 0's gathered best state, or a reference state dict.
  std::map<std::string, std::vector<int64_t>> shapes;
  std::string shapes_source;
  if (!options.shapes_from.empty()) {
    Checkpoint ref(options.shapes_from);
    for (const auto& t : resolve_source(ref, "auto").tensors) shapes[t.name] = t.tensor.sizes;
    shapes_source = options.shapes_from;
  } else {
    const NodeId best = rank0.graph().get_path(rank0.root(), "fsdp_best_state.model");
    if (best == kNoNode || rank0.graph().at(best).entries.empty()) {
      throw InputError(rank0.path() + ": fsdp_best_state.model is empty, so the parameters' shapes are unknown; "
                       "give --shapes-from REF (any state dict with the same names)");
    }
    for (const auto& t : rank0.state_dict_at("fsdp_best_state.model").tensors) shapes[t.name] = t.tensor.sizes;
    shapes_source = rank0.path() + " fsdp_best_state.model";
  }

  for (const NamedTensor& t : s.per_rank[0].tensors) {
    const auto it = shapes.find(t.name);
    if (it == shapes.end()) throw InputError(shapes_source + " has no '" + t.name + "' to take its shape from");
    s.names.push_back(t.name);
    s.shapes.push_back(it->second);
    s.numels.push_back(numel_of(it->second));
    s.dtypes.push_back(t.tensor.dtype);
  }
  for (int r = 1; r < files.world(); ++r) {
    const auto& tensors = s.per_rank[r].tensors;
    if (tensors.size() != s.names.size()) {
      throw InputError(files.paths[r] + ": " + path + " has " + std::to_string(tensors.size()) + " tensors, rank 0's " +
                       std::to_string(s.names.size()) + "; these files are not one run");
    }
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].name != s.names[i] || tensors[i].tensor.dtype != s.dtypes[i]) {
        throw InputError(files.paths[r] + ": " + path + " entry " + std::to_string(i) + " is '" + tensors[i].name +
                         "' (" + std::string(torch_name(tensors[i].tensor.dtype)) + "); rank 0 has '" + s.names[i] +
                         "' (" + std::string(torch_name(s.dtypes[i])) + ")");
      }
    }
  }

  // Alignment: from xp.cfg when it says, else whichever of float16 / float32 fits.
  std::vector<uint64_t> candidates;
  if (const auto dtype = cfg_param_dtype(rank0)) {
    candidates.push_back(fsdp_alignment(element_size(*dtype)));
  } else {
    candidates = {fsdp_alignment(2), fsdp_alignment(4)};
  }
  auto layout = [&](int world, uint64_t alignment, std::vector<std::size_t>& unit_of,
                    std::vector<std::size_t>& position) {
    auto units = fsdp_layout(s.names, s.numels, s.rules, world, alignment);
    unit_of.assign(s.names.size(), 0);
    position.assign(s.names.size(), 0);
    for (std::size_t u = 0; u < units.size(); ++u) {
      for (std::size_t k = 0; k < units[u].params.size(); ++k) {
        unit_of[units[u].params[k]] = u;
        position[units[u].params[k]] = k;
      }
    }
    return units;
  };
  std::string first_error;
  for (uint64_t alignment : candidates) {
    std::vector<std::size_t> unit_of, position;
    auto units = layout(files.world(), alignment, unit_of, position);
    const std::string error = mismatch(s, units, unit_of, position, files.world(), files.paths);
    if (error.empty()) {
      s.units = std::move(units);
      s.unit_of = std::move(unit_of);
      s.position = std::move(position);
      s.alignment = alignment;
      return s;
    }
    if (first_error.empty()) first_error = error;
  }
  // Explain: which world sizes would rank 0's pieces fit?
  std::string fits;
  for (int w = 1; w <= std::max(64, 4 * files.world()) && fits.size() < 40; ++w) {
    std::vector<std::size_t> unit_of, position;
    const auto units = layout(w, candidates[0], unit_of, position);
    if (mismatch(s, units, unit_of, position, 1, files.paths).empty()) fits += (fits.empty() ? "" : ", ") + std::to_string(w);
  }
  std::string hint = "found " + std::to_string(files.world()) + " rank file(s) (" + files.paths[0] +
                     (files.world() > 1 ? " … " + files.paths.back() : std::string()) + ")";
  if (!fits.empty()) hint += "; rank 0's pieces fit world size " + fits + ": is a rank file missing or extra?";
  else hint += "; rank 0's pieces fit no world size under this wrap policy (see --fsdp-units)";
  throw InputError(first_error + "\n  " + hint);
}

}  // namespace fsdpshard
