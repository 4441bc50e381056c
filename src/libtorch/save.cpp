// fsdpshard::libtorch::save and save_safetensors: at::Tensors written through the
// project's own writers (pickler, ZipWriter / SafetensorsWriter, AtomicFile).
#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "torch_pickle/tensor_nodes.h"
#include "fsdpshard/archive/atomic_file.h"
#include "fsdpshard/pickle/pickler.h"
#include "fsdpshard/archive/safetensors.h"
#include "fsdpshard/torch.h"
#include "fsdpshard/archive/zip_writer.h"
#include "libtorch/scalar_types.h"

namespace fsdpshard::libtorch {
namespace {

DType require_dtype(const std::string& path, const std::string& name, const at::Tensor& t) {
  if (!t.defined()) throw InputError(path + ": tensor '" + name + "' is undefined");
  if (t.layout() != c10::kStrided || t.is_quantized()) {
    throw InputError(path + ": tensor '" + name + "' is not a dense tensor; only strided tensors are written");
  }
  const auto dtype = dtype_of(t.scalar_type());
  if (!dtype) throw InputError(path + ": tensor '" + name + "' has a type fsdpshard does not write");
  return *dtype;
}

void check_unique_names(const std::string& path, const TensorList& state_dict) {
  std::set<std::string> seen;
  for (const auto& entry : state_dict) {
    if (!seen.insert(entry.first).second) throw InputError(path + ": the name '" + entry.first + "' is given twice");
  }
}

// torch.save names the zip's root folder after the file, without its extension.
std::string archive_root_for(const std::string& path) {
  const std::string stem = std::filesystem::path(path).stem().string();
  return stem.empty() ? "archive" : stem;
}

// All the bytes of `storage`, on the CPU (a copy when it lives on another device).
at::Tensor storage_bytes_on_cpu(const c10::Storage& storage) {
  at::Tensor bytes = at::empty({0}, at::TensorOptions().dtype(at::kByte).device(storage.device()));
  bytes.set_(storage);
  return bytes.device().is_cpu() ? bytes : bytes.cpu();
}

// One output storage: the bytes of an at::Storage, as record data/<key>.
struct OutputStorage {
  std::string key;
  NodeId node = kNoNode;
  c10::Storage storage;  // copied to the CPU only when written, one at a time
};

// A pointer for `size` bytes of `t`, never null (an empty tensor may have no data).
const void* bytes_of(const at::Tensor& t) {
  static const char nothing = 0;
  return t.numel() == 0 ? &nothing : t.data_ptr();
}

}  // namespace

void save(const std::string& path, const TensorList& state_dict, const SaveOptions& options) {
  check_unique_names(path, state_dict);
  Graph graph;
  std::vector<OutputStorage> storages;
  // Tensors over one at::Storage (with one element type) share one record, as torch.save's.
  std::map<std::tuple<const void*, DType>, std::size_t> storage_index;
  std::vector<std::pair<NodeId, NodeId>> entries;
  for (const auto& [name, tensor] : state_dict) {
    const DType dtype = require_dtype(path, name, tensor);
    const c10::Storage& storage = tensor.storage();
    const auto key = std::make_tuple(static_cast<const void*>(storage.unsafeGetStorageImpl()), dtype);
    auto found = storage_index.find(key);
    if (found == storage_index.end()) {
      if (storage.nbytes() % element_size(dtype) != 0) {
        throw InputError(path + ": tensor '" + name + "': its storage is not a whole number of " +
                         std::string(torch_name(dtype)) + " elements");
      }
      OutputStorage out;
      out.key = std::to_string(storages.size());
      out.node = make_storage_node(graph, dtype, out.key, storage.nbytes() / element_size(dtype));
      out.storage = storage;
      found = storage_index.emplace(key, storages.size()).first;
      storages.push_back(std::move(out));
    }
    TensorSpec spec;
    spec.storage = storages[found->second].node;
    spec.dtype = dtype;
    spec.offset = static_cast<uint64_t>(tensor.storage_offset());
    spec.sizes = tensor.sizes().vec();
    spec.strides = tensor.strides().vec();
    spec.requires_grad = tensor.requires_grad();
    entries.emplace_back(graph.str(name), emit_tensor(graph, spec));
  }
  graph.root = graph.ordered_dict(std::move(entries));
  const std::string pickled = pickle(graph, graph.root);

  AtomicFile file(path, options.overwrite);
  ZipWriterOptions zip_options;
  zip_options.label = path;
  ZipWriter zip(file.fd(), archive_root_for(path), zip_options);
  // torch.save's record order (docs/FORMATS.md §1).
  zip.add("data.pkl", pickled);
  zip.add("byteorder", std::string_view("little"));
  for (const OutputStorage& s : storages) {
    const at::Tensor bytes = storage_bytes_on_cpu(s.storage);
    zip.add("data/" + s.key, bytes_of(bytes), static_cast<std::size_t>(bytes.numel()));
  }
  zip.add("version", std::string_view("3\n"));
  zip.finish();
  file.commit();
}

void save_safetensors(const std::string& path, const TensorList& state_dict, const SaveOptions& options) {
  check_unique_names(path, state_dict);
  std::vector<SafetensorsTensorSpec> specs;
  std::vector<at::Tensor> values;
  for (const auto& [name, tensor] : state_dict) {
    const DType dtype = require_dtype(path, name, tensor);
    at::Tensor value = tensor.detach().cpu().contiguous();
    SafetensorsTensorSpec spec;
    spec.name = name;
    spec.dtype = dtype;
    for (int64_t size : value.sizes()) spec.shape.push_back(static_cast<uint64_t>(size));
    spec.nbytes = value.numel() * element_size(dtype);
    specs.push_back(std::move(spec));
    values.push_back(std::move(value));
  }
  AtomicFile file(path, options.overwrite);
  SafetensorsWriter writer(file.fd(), specs, options.metadata, path);  // InputError for a type it lacks
  for (std::size_t i = 0; i < specs.size(); ++i) writer.add(specs[i].name, bytes_of(values[i]), specs[i].nbytes);
  writer.finish();
  file.commit();
}

}  // namespace fsdpshard::libtorch
