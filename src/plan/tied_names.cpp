#include "fsdpshard/plan/tied_names.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "fsdpshard/util/error.h"

namespace fsdpshard {
namespace {

// One selected tensor as huggingface_hub's _find_shared_tensors sees it: its byte range
// in its storage and whether it covers that storage whole (_is_complete).
struct Area {
  uint64_t start = 0;
  uint64_t stop = 0;
  std::string name;
  bool complete = false;
  const TensorRef* tensor = nullptr;
};

Area area_of(const TensorRef& t, const std::string& name) {
  Area a;
  a.name = name;
  a.tensor = &t;
  a.start = t.storage_offset * element_size(t.dtype);
  // _end_ptr: one past the last element; an empty tensor ends where it starts.
  a.stop = t.numel() == 0 ? a.start : t.byte_span().second;
  a.complete = a.start == 0 && t.nbytes() == t.storage.nbytes();
  return a;
}

// One tensor under two names: same dtype, place, shape and strides.
bool same_view(const TensorRef& a, const TensorRef& b) {
  return a.dtype == b.dtype && a.storage_offset == b.storage_offset && a.sizes == b.sizes && a.strides == b.strides;
}

}  // namespace

TiedNames drop_tied_names(const StateDict& source, const std::vector<Selected>& selected, const std::string& path) {
  // Storages in order of first use; an empty storage shares nothing (storage size 0 is
  // skipped by huggingface_hub).
  std::vector<std::string> storage_order;
  std::map<std::string, std::vector<Area>> areas;
  for (const Selected& s : selected) {
    const TensorRef& t = source.tensors[s.index].tensor;
    if (t.storage.nbytes() == 0) continue;
    auto [it, fresh] = areas.emplace(t.storage.key, std::vector<Area>{});
    if (fresh) storage_order.push_back(t.storage.key);
    it->second.push_back(area_of(t, s.name));
  }

  TiedNames tied;
  std::set<std::string> dropped;
  for (const std::string& key : storage_order) {
    std::vector<Area>& in_storage = areas[key];
    if (in_storage.size() < 2) continue;
    // _filter_shared_not_shared: sorted by (start, stop, name), a tensor starting before
    // the previous one's stop joins its group.
    std::sort(in_storage.begin(), in_storage.end(), [](const Area& a, const Area& b) {
      return std::tie(a.start, a.stop, a.name) < std::tie(b.start, b.stop, b.name);
    });
    std::vector<std::vector<const Area*>> groups{{&in_storage[0]}};
    uint64_t last_stop = in_storage[0].stop;
    for (std::size_t i = 1; i < in_storage.size(); ++i) {
      if (in_storage[i].start >= last_stop) groups.emplace_back();
      groups.back().push_back(&in_storage[i]);
      last_stop = in_storage[i].stop;
    }
    for (const auto& group : groups) {
      if (group.size() < 2) continue;
      std::vector<std::string> names;
      std::string keep;
      for (const Area* a : group) {
        names.push_back(a->name);
        if (a->complete && (keep.empty() || a->name < keep)) keep = a->name;
      }
      std::sort(names.begin(), names.end());
      if (keep.empty()) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
        throw InputError(path + ": " + list + " overlap in one storage and none covers it whole; safetensors "
                         "cannot share it and dropping names would lose data (huggingface_hub refuses it too): "
                         "use --format torch / --to state-dict, or exclude them");
      }
      const Area* kept = *std::find_if(group.begin(), group.end(), [&](const Area* a) { return a->name == keep; });
      for (const auto& n : names) {
        if (n == keep) continue;
        const Area* other = *std::find_if(group.begin(), group.end(), [&](const Area* a) { return a->name == n; });
        // The metadata records only a name: what comes back is the kept tensor itself.
        // huggingface_hub drops a reshaped or partial view all the same, losing its shape.
        if (!same_view(*other->tensor, *kept->tensor)) {
          throw InputError(path + ": '" + n + "' is a different view of the storage of '" + keep + "'; a "
                           "safetensors file can record it only as a second name of '" + keep + "' (huggingface_hub "
                           "would drop it and lose its shape): use --format torch / --to state-dict, or exclude it");
        }
        tied.dropped.emplace_back(n, keep);
        dropped.insert(n);
      }
    }
  }
  for (const Selected& s : selected) {
    if (!dropped.count(s.name)) tied.kept.push_back(s);
  }
  return tied;
}

void record_dropped_names(std::vector<std::pair<std::string, std::string>>& metadata, const TiedNames& tied) {
  for (const auto& entry : tied.dropped) {
    // Not a structured binding: C++17 lambdas cannot capture those (clang refuses).
    const std::string& name = entry.first;
    const bool present = std::any_of(metadata.begin(), metadata.end(), [&](const auto& kv) { return kv.first == name; });
    if (!present) metadata.emplace_back(name, entry.second);
  }
}

bool is_tied_name_record(const std::string& key) {
  return key != "format" && key != "total_size" && key != "xp.cfg";
}

std::string dropped_names_summary(const TiedNames& tied) {
  if (tied.dropped.empty()) return "";
  const std::size_t n = tied.dropped.size();
  return "; " + std::to_string(n) + " tied name" + (n == 1 ? "" : "s") +
         " dropped (one kept per shared storage, the others listed in the metadata)";
}

}  // namespace fsdpshard
