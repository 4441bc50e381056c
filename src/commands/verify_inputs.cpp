#include "commands/verify_inputs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands/cfg_output.h"
#include "fsdpshard/cfg.h"
#include "fsdpshard/error.h"
#include "fsdpshard/read_only_file.h"
#include "fsdpshard/source.h"
#include "fsdpshard/tied_names.h"

namespace fsdpshard {
namespace {

namespace fs = std::filesystem;

// The index files reshard writes (Hugging Face names), torch first.
const char* const kIndexNames[] = {"pytorch_model.bin.index.json", "model.safetensors.index.json"};

// Small text files only (an index, config.yaml), and regular ones: a FIFO would block.
std::string read_small_file(const std::string& path, const char* what) {
  return read_small_regular_file(path, 256u << 20, std::string("reading the ") + what);
}

bool starts_with_zip_magic(const std::string& path) {
  const ReadOnlyFile file(path);  // refuses a FIFO or device before reading from it
  unsigned char magic[4] = {};
  return ::pread(file.fd(), magic, 4, 0) == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 &&
         magic[3] == 4;
}

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

std::string without_prefix(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0 ? text.substr(prefix.size()) : text;
}

}  // namespace

VerifyInput::VerifyInput(const std::string& path, const std::string& from) : path_(path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const char* name : kIndexNames) {
      const std::string index = (fs::path(path) / name).string();
      if (fs::exists(index, ec)) {
        open_shard_set(index);
        return;
      }
    }
    // One shard: huggingface_hub (and reshard) write model.safetensors / pytorch_model.bin
    // alone, with config.yaml beside it.
    for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
      const std::string file = (fs::path(path) / name).string();
      if (!fs::is_regular_file(file, ec)) continue;
      open_file(file, from, false);
      kind_ = torch_files_.empty() ? "safetensors" : "torch";
      const std::string config = (fs::path(path) / "config.yaml").string();
      if (fs::exists(config, ec)) cfg_ = normalize_yaml(read_small_file(config, "config.yaml"));
      return;
    }
    throw InputError(path + ": a folder without pytorch_model.bin.index.json or model.safetensors.index.json "
                     "(not a shard set) nor a lone model.safetensors or pytorch_model.bin");
  }
  if (ends_with(path, ".index.json")) {
    open_shard_set(path);
    return;
  }
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file");
  open_file(path, from, false);
  kind_ = torch_files_.empty() ? "safetensors" : "torch";
}

void VerifyInput::open_file(const std::string& file, const std::string& from, bool in_shard_set) {
  if (starts_with_zip_magic(file)) {
    open_torch(file, from);
  } else if (ends_with(file, ".safetensors")) {
    open_safetensors(file, !in_shard_set);
  } else {
    // Neither by name nor by content a torch file: a safetensors file, or an error that
    // says what was expected.
    try {
      open_safetensors(file, !in_shard_set);
    } catch (const InputError& e) {
      throw InputError(file + ": not a zip archive (torch.save files start with PK\\x03\\x04) nor a "
                       "safetensors file (" + without_prefix(e.what(), file + ": ") + ")");
    }
  }
}

void VerifyInput::open_torch(const std::string& file, const std::string& from) {
  auto ckpt = std::make_unique<Checkpoint>(file);
  const StateDict sd = resolve_source(*ckpt, from);
  const int fd = ckpt->archive().fd();
  for (const NamedTensor& t : sd.tensors) {
    const ZipRecord& record = ckpt->storage_record(t.tensor.storage);
    VerifyTensor v;
    v.name = t.name;
    v.location.fd = fd;
    v.location.path = file;
    v.location.dtype = t.tensor.dtype;
    v.location.offset = record.data_offset + t.tensor.storage_offset * element_size(t.tensor.dtype);
    v.location.sizes = t.tensor.sizes;
    v.location.strides = t.tensor.strides;
    add(std::move(v));
  }
  if (torch_files_.empty()) {
    source_ = sd.path;
    cfg_ = cfg_yaml_of(*ckpt);
  }
  torch_files_.push_back(std::move(ckpt));
}

void VerifyInput::open_safetensors(const std::string& file, bool take_cfg) {
  auto reader = std::make_unique<SafetensorsReader>(file);
  for (const SafetensorsEntry& e : reader->entries()) {
    VerifyTensor v;
    v.name = e.name;
    v.location.fd = reader->fd();
    v.location.path = file;
    v.location.dtype = e.dtype;
    v.location.offset = e.data_offset;
    int64_t stride = 1;
    v.location.sizes.assign(e.shape.begin(), e.shape.end());
    v.location.strides.assign(e.shape.size(), 0);
    for (std::size_t i = e.shape.size(); i-- > 0;) {
      v.location.strides[i] = stride;
      stride *= static_cast<int64_t>(e.shape[i]);
    }
    add(std::move(v));
  }
  if (take_cfg) {
    // gather --to safetensors keeps xp.cfg as YAML text in the metadata.
    for (const auto& [key, value] : reader->metadata()) {
      if (key == "xp.cfg") cfg_ = normalize_yaml(value);
    }
    restore_tied_names(reader->metadata());  // a lone file records its dropped names itself
  }
  safetensors_files_.push_back(std::move(reader));
}

void VerifyInput::open_shard_set(const std::string& index_path) {
  kind_ = "shards";
  const fs::path folder = fs::path(index_path).parent_path();
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(read_small_file(index_path, "shard index"));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(index_path + ": not a valid shard index (" + e.what() + ")");
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw InputError(index_path + ": a shard index needs a \"weight_map\" object");
  }
  // Each file once, in the order files are first named; then every name must be found
  // in the file the map names.
  std::map<std::string, std::string> weight_map;
  std::vector<std::string> files;
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) throw InputError(index_path + ": weight_map['" + name + "'] is not a file name");
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..") {
      throw InputError(index_path + ": weight_map['" + name + "'] names '" + f + "', not a file of the folder");
    }
    weight_map[name] = f;
    if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) open_file((folder / f).string(), "", true);
  for (const auto& [name, file] : weight_map) {
    const VerifyTensor* t = find(name);
    const std::string expected = (folder / file).string();
    if (!t || t->location.path != expected) {
      throw InputError(index_path + ": the index puts '" + name + "' in " + file + " but that file does not hold it");
    }
  }
  if (tensors_.size() != weight_map.size()) {
    throw InputError(index_path + ": the shard files hold " + std::to_string(tensors_.size()) +
                     " tensors but the index names " + std::to_string(weight_map.size()));
  }
  std::vector<std::pair<std::string, std::string>> metadata;
  if (index.contains("metadata") && index["metadata"].is_object()) {
    for (const auto& [key, value] : index["metadata"].items()) {
      if (value.is_string()) metadata.emplace_back(key, value.get<std::string>());
    }
  }
  restore_tied_names(metadata);
  source_.clear();
  cfg_.reset();
  const std::string config = (folder / "config.yaml").string();
  std::error_code ec;
  if (fs::exists(config, ec)) cfg_ = normalize_yaml(read_small_file(config, "config.yaml"));
}

void VerifyInput::restore_tied_names(const std::vector<std::pair<std::string, std::string>>& metadata) {
  // {dropped: kept} entries (huggingface_hub's record of tied names it did not store):
  // the dropped name reads the kept tensor's bytes, as gather brings it back.
  for (const auto& [name, kept] : metadata) {
    if (!is_tied_name_record(name)) continue;
    const VerifyTensor* same = find(kept);
    if (!same || find(name)) continue;
    VerifyTensor tied = *same;
    tied.name = name;
    add(std::move(tied));
  }
}

void VerifyInput::add(VerifyTensor tensor) {
  const auto [it, fresh] = index_.emplace(tensor.name, tensors_.size());
  if (!fresh) {
    throw InputError(tensor.location.path + ": tensor '" + tensor.name + "' appears twice" +
                     (tensors_[it->second].location.path != tensor.location.path
                          ? " (also in " + tensors_[it->second].location.path + ")"
                          : std::string()));
  }
  tensors_.push_back(std::move(tensor));
}

const VerifyTensor* VerifyInput::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::vector<const ZipReader*> VerifyInput::archives() const {
  std::vector<const ZipReader*> out;
  for (const auto& c : torch_files_) out.push_back(&c->archive());
  return out;
}

}  // namespace fsdpshard
