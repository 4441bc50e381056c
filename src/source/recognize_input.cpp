#include "fsdpshard/source/recognize_input.h"

#include <unistd.h>

#include <filesystem>
#include <regex>
#include <vector>

#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/read_only_file.h"

namespace fsdpshard {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// torch.save writes a zip archive, whose first local header starts PK\3\4.
bool starts_with_zip_magic(const std::string& path) {
  const ReadOnlyFile file(path);  // refuses a FIFO or device before reading from it
  unsigned char magic[4] = {};
  return ::pread(file.fd(), magic, 4, 0) == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 &&
         magic[3] == 4;
}

RecognizedInput recognize_folder(const std::string& path) {
  const fs::path folder(path);
  std::vector<std::string> indexes;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 11 && ends_with(name, ".index.json")) indexes.push_back(entry.path().string());
  }
  if (ec) throw InputError(path + ": cannot list the folder: " + ec.message());
  if (indexes.size() == 1) return {InputKind::ShardSet, indexes.front(), path, false, false};
  if (indexes.empty()) {
    if (fs::exists(folder / "checkpoint.th", ec)) {
      return {InputKind::FsdpSet, (folder / "checkpoint.th").string(), path, false, false};
    }
    std::vector<std::string> singles;
    for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
      if (fs::is_regular_file(folder / name, ec)) singles.push_back((folder / name).string());
    }
    if (singles.size() == 1) return {InputKind::ShardSet, singles.front(), path, true, false};
  }
  throw InputError(path + ": expected one *.index.json (a sharded checkpoint), or a lone model.safetensors or "
                   "pytorch_model.bin, or an FSDP run's checkpoint.th, in this folder; found " +
                   std::to_string(indexes.size()) + " index files");
}

}  // namespace

bool is_rank_file_name(const std::string& path) {
  // Rank-N names too, so that opening the set can point the user at rank 0's file.
  static const std::regex name(R"(checkpoint(_[^/]*)?\.th(\.[0-9]+)?)");
  return std::regex_match(fs::path(path).filename().string(), name);
}

RecognizedInput recognize_file(const std::string& path) {
  if (starts_with_zip_magic(path)) return {InputKind::TorchSave, path, "", false, false};
  return {InputKind::Safetensors, path, "", false, !ends_with(path, ".safetensors")};
}

RecognizedInput recognize_input(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return recognize_folder(path);
  if (ends_with(path, ".index.json")) {
    return {InputKind::ShardSet, path, fs::path(path).parent_path().string(), false, false};
  }
  RecognizedInput in = recognize_file(path);
  if (in.kind == InputKind::TorchSave && is_rank_file_name(path)) in.kind = InputKind::FsdpSet;
  return in;
}

}  // namespace fsdpshard
