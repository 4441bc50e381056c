#include "archive/previous_output.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace fsdpshard::archive {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "pytorch_model-00002-of-00005.bin" -> safetensors=false, k=2, n=5.
struct ShardName {
  bool safetensors = false;
  unsigned long k = 0, n = 0;
};

std::optional<ShardName> parse_shard_name(const std::string& name) {
  ShardName parsed;
  std::string middle;
  if (name.rfind("pytorch_model-", 0) == 0 && ends_with(name, ".bin")) {
    middle = name.substr(14, name.size() - 14 - 4);
  } else if (name.rfind("model-", 0) == 0 && ends_with(name, ".safetensors")) {
    parsed.safetensors = true;
    middle = name.substr(6, name.size() - 6 - 12);
  } else {
    return std::nullopt;
  }
  const std::size_t of = middle.find("-of-");
  if (of == std::string::npos) return std::nullopt;
  const std::string k = middle.substr(0, of), n = middle.substr(of + 4);
  // As shard_file_name writes them: five digits (the --shards limit is 99999).
  if (k.size() != 5 || n.size() != 5 || !all_digits(k) || !all_digits(n)) return std::nullopt;
  parsed.k = std::stoul(k);
  parsed.n = std::stoul(n);
  if (parsed.k < 1 || parsed.k > parsed.n) return std::nullopt;
  return parsed;
}

bool is_shard_set(const std::vector<std::string>& names) {
  int indexes = 0;
  bool safetensors = false;
  std::set<unsigned long> ks;
  std::set<unsigned long> ns;
  std::set<bool> formats;
  for (const std::string& name : names) {
    if (name == "config.yaml") continue;
    if (name == "pytorch_model.bin.index.json" || name == "model.safetensors.index.json") {
      ++indexes;
      safetensors = name == "model.safetensors.index.json";
      continue;
    }
    const auto shard = parse_shard_name(name);
    if (!shard) return false;
    ks.insert(shard->k);
    ns.insert(shard->n);
    formats.insert(shard->safetensors);
  }
  if (indexes != 1 || ns.size() != 1 || formats.size() != 1 || *formats.begin() != safetensors) return false;
  return ks.size() == *ns.begin();  // every k of 1..N, each once (names are unique)
}

// torch.save (and fsdpshard's writer) put "<root>/data.pkl" first in the zip: its local
// header starts the file. Any other zip is not taken for a rank file.
bool starts_like_torch_save(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  unsigned char head[30 + 512] = {};
  const ssize_t got = ::pread(fd, head, sizeof head, 0);
  ::close(fd);
  if (got < 30 || std::memcmp(head, "PK\x03\x04", 4) != 0) return false;
  const std::size_t name_length = head[26] | (head[27] << 8);
  if (30 + name_length > static_cast<std::size_t>(got)) return false;
  const std::string first(reinterpret_cast<const char*>(head) + 30, name_length);
  return ends_with(first, "/data.pkl");
}

// NAME, NAME.1, ..., NAME.<M-1>: the shortest name is NAME (every other one extends it).
bool is_rank_file_set(const std::string& folder, const std::vector<std::string>& names) {
  const std::string base = *std::min_element(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() < b.size();
  });
  std::set<unsigned long> ranks{0};
  for (const std::string& name : names) {
    if (!starts_like_torch_save(folder + "/" + name)) return false;
    if (name == base) continue;
    const std::string rank = name.substr(std::min(name.size(), base.size() + 1));
    if (name.compare(0, base.size() + 1, base + ".") != 0 || !all_digits(rank) || rank[0] == '0' || rank.size() > 6) {
      return false;
    }
    ranks.insert(std::stoul(rank));
  }
  return *ranks.rbegin() + 1 == ranks.size();  // 0..M-1, each once
}

}  // namespace

std::optional<std::vector<std::string>> previous_output_files(const std::string& folder, std::string& why_not) {
  DIR* dir = ::opendir(folder.c_str());
  if (dir == nullptr) {
    why_not = std::string("cannot list it: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<std::string> names;
  std::string odd;  // the first entry that is not a regular file
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (odd.empty() && (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))) {
      odd = name;
    }
    names.push_back(name);
  }
  ::closedir(dir);
  if (!odd.empty()) {
    why_not = "it holds '" + odd + "', which is not a regular file";
    return std::nullopt;
  }
  std::sort(names.begin(), names.end());
  if (names.empty() || is_shard_set(names) || is_rank_file_set(folder, names)) return names;
  why_not = "it holds '" + names.front() + "'" + (names.size() > 1 ? " and " + std::to_string(names.size() - 1) + " more" : "") +
            ", not only a shard set or FSDP rank files fsdpshard writes";
  return std::nullopt;
}

}  // namespace fsdpshard::archive
