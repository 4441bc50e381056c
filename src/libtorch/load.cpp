// fsdpshard::libtorch::load: the checkpoint model (Checkpoint, resolve_source,
// select_tensors) turned into at::Tensors over the input's bytes.
#include <ATen/ATen.h>
#include <c10/util/strides.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "fsdpshard/plan/cast.h"
#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/plan/selection.h"
#include "fsdpshard/source/resolve_source.h"
#include "fsdpshard/source/open_source.h"
#include "fsdpshard/torch.h"
#include "libtorch/file_mapping.h"
#include "libtorch/scalar_types.h"
#include "libtorch/storage_segments.h"

namespace fsdpshard::libtorch {
namespace {

// The CLI's selection options from the API's (the same InputErrors, naming the option).
SelectionOptions selection_options(const LoadOptions& options) {
  SelectionOptions selection;
  for (const NameFilter& filter : options.filters) {
    selection.filters.push_back({filter.include, NamePattern(filter.pattern, filter.include ? "--include" : "--exclude")});
  }
  for (const std::string& rule : options.renames) selection.renames.emplace_back(rule);
  const std::vector<std::string>& choices = dtype_choices();
  if (std::find(choices.begin(), choices.end(), options.dtype) == choices.end()) {
    // CLI11's words for a value outside IsMember, so that the API and the CLI say the same.
    std::string set;
    for (const std::string& choice : choices) set += (set.empty() ? "" : ",") + choice;
    throw InputError("--dtype: " + options.dtype + " not in {" + set + "}");
  }
  if (options.dtype != "keep") selection.dtype = dtype_from_torch_name(options.dtype);
  selection.allow_empty = options.allow_empty;
  return selection;
}

c10::ScalarType require_scalar_type(DType dtype, const std::string& where) {
  const auto type = scalar_type_of(dtype);
  if (!type) {
    throw InputError(where + " is " + std::string(torch_name(dtype)) + ", a type this LibTorch has no tensor type for");
  }
  return *type;
}

// The input files, each mapped once, when a tensor first needs it.
class Mappings {
 public:
  Mappings(std::vector<std::string> paths, bool writable) : paths_(std::move(paths)), writable_(writable) {}
  const std::shared_ptr<const FileMapping>& at(uint32_t input) {
    auto& slot = mappings_[input];
    if (!slot) slot = FileMapping::open(paths_.at(input), writable_);
    return slot;
  }
  std::function<const FileMapping&(uint32_t)> lookup() {
    return [this](uint32_t input) -> const FileMapping& { return *at(input); };
  }

 private:
  std::vector<std::string> paths_;
  bool writable_;
  std::map<uint32_t, std::shared_ptr<const FileMapping>> mappings_;
};

// Keeps the mapping alive for as long as an at::Storage holds a pointer into it.
void release_mapping(void* context) { delete static_cast<std::shared_ptr<const FileMapping>*>(context); }

c10::Storage view_of(const std::shared_ptr<const FileMapping>& file, uint64_t offset, uint64_t nbytes) {
  auto* keep_alive = new std::shared_ptr<const FileMapping>(file);
  // at::Storage's data is non-const; a read-only mapping faults on writes instead.
  c10::DataPtr pointer(const_cast<char*>(file->data() + offset), keep_alive, &release_mapping, c10::Device(c10::kCPU));
  return c10::Storage(c10::Storage::use_byte_size_t(), nbytes, std::move(pointer), nullptr, false);
}

c10::Storage owned_storage(uint64_t nbytes) {
  return at::empty({static_cast<int64_t>(nbytes)}, at::TensorOptions().dtype(at::kByte)).storage();
}

char* bytes_of(c10::Storage& storage) { return static_cast<char*>(storage.data_ptr().get()); }

// `segments` assembled into an owned storage.
c10::Storage assembled(const std::vector<ByteSegment>& segments, uint64_t nbytes, Mappings& files,
                       const std::string& what) {
  c10::Storage storage = owned_storage(nbytes);
  copy_segments(segments, nbytes, files.lookup(), bytes_of(storage), what);
  return storage;
}

// `count` elements of `source` cast element by element (torch-exact: fsdpshard/plan/cast.h).
c10::Storage cast(const c10::Storage& source, DType from, DType to, uint64_t count) {
  c10::Storage storage = owned_storage(count * element_size(to));
  if (count > 0) cast_elements(source.data_ptr().get(), from, bytes_of(storage), to, count);
  return storage;
}

c10::Storage to_device(const c10::Storage& storage, const std::optional<c10::Device>& device) {
  if (!device || device->is_cpu()) return storage;
  at::Tensor bytes = at::empty({0}, at::TensorOptions().dtype(at::kByte));
  bytes.set_(storage);
  return bytes.to(*device).storage();
}

at::Tensor tensor_over(const c10::Storage& storage, c10::ScalarType type, int64_t offset, at::IntArrayRef sizes,
                       at::IntArrayRef strides) {
  at::Tensor tensor = at::empty({0}, at::TensorOptions().dtype(type).device(storage.device()));
  tensor.set_(storage, offset, sizes, strides);
  return tensor;
}

// Builds the at::Storages of one checkpoint: each storage once, so tensors that share it
// in the file share it here.
class StorageBuilder {
 public:
  StorageBuilder(const Checkpoint& ckpt, const LoadOptions& options)
      : ckpt_(ckpt), options_(options), files_(ckpt.inputs(), options.writable_views) {}

  // The storage of `t` holding elements of `dtype` (t.dtype, or the cast target), on the
  // device asked for.
  c10::Storage storage_for(const TensorRef& t, DType dtype) {
    const auto key = std::make_tuple(t.storage.key, dtype);
    auto found = storages_.find(key);
    if (found != storages_.end()) return found->second;
    // A cast converts the whole storage, so that every view of it keeps its offset and strides.
    c10::Storage storage = dtype == t.dtype ? file_storage(t)
                                            : cast(file_storage(t), t.dtype, dtype, t.storage.nbytes() / element_size(t.dtype));
    storage = to_device(storage, options_.device);
    storages_.emplace(key, storage);
    return storage;
  }

 private:
  // The storage's bytes as they are in the file (on the CPU): a view when they are one
  // aligned run, else assembled from their segments.
  c10::Storage file_storage(const TensorRef& t) {
    auto found = file_storages_.find(t.storage.key);
    if (found != file_storages_.end()) return found->second;
    c10::Storage storage = read_storage(t.storage, element_size(t.dtype));
    file_storages_.emplace(t.storage.key, storage);
    return storage;
  }

  // `element` is the size of the elements the tensor reads (an untyped storage counts bytes).
  c10::Storage read_storage(const StorageRef& ref, std::size_t element) {
    const uint64_t nbytes = ref.nbytes();
    const std::vector<ByteSegment> segments = storage_segments(ckpt_, ref);
    if (segments.size() == 1 && segments[0].placement == 0 && segments[0].length == nbytes) {
      const ByteSegment& s = segments[0];
      const auto& file = files_.at(s.input);
      if (!file->contains(s.offset, nbytes)) {
        throw InputError(file->path() + ": changed while being read (storage '" + ref.key + "' is past its end)");
      }
      // Views need element-aligned data (torch's kernels assume it); a safetensors file
      // may place a tensor anywhere, and such a tensor is copied instead.
      const std::size_t alignment = std::min<std::size_t>(element, 8);
      if (reinterpret_cast<uintptr_t>(file->data() + s.offset) % alignment == 0) return view_of(file, s.offset, nbytes);
    }
    return assembled(segments, nbytes, files_, "storage '" + ref.key + "'");
  }

  const Checkpoint& ckpt_;
  const LoadOptions& options_;
  Mappings files_;
  std::map<std::string, c10::Storage> file_storages_;                // by storage key, on the CPU
  std::map<std::tuple<std::string, DType>, c10::Storage> storages_;  // as the tensors get them
};

// What torch.load gives: a Parameter's flag, or the tensor's own.
void keep_requires_grad(at::Tensor& tensor, const TensorRef& t) {
  const bool requires_grad = t.parameter ? t.parameter_requires_grad : t.requires_grad;
  if (requires_grad && at::isFloatingType(tensor.scalar_type())) tensor.set_requires_grad(true);
}

}  // namespace

LoadedCheckpoint load(const std::string& path, const LoadOptions& options) {
  const SelectionOptions selection = selection_options(options);
  // Any input the CLI opens, an FSDP run's rank files with a per-rank `from` included
  // (their parameters are storages of several segments, assembled into owned tensors).
  const std::unique_ptr<Checkpoint> opened = open_source(path, {options.from, {}, {}});
  const Checkpoint& ckpt = *opened;
  const StateDict source = resolve_source(ckpt, options.from);
  const std::vector<Selected> selected = select_state_dict(source, selection);

  LoadedCheckpoint loaded;
  loaded.source = source.path;
  loaded.cfg_yaml = ckpt.cfg_yaml();
  StorageBuilder storages(ckpt, options);
  for (const Selected& s : selected) {
    const TensorRef& ref = source.tensors[s.index].tensor;
    const c10::ScalarType type = require_scalar_type(s.dtype, path + ": tensor '" + source.tensors[s.index].name + "'");
    at::Tensor tensor = tensor_over(storages.storage_for(ref, s.dtype), type, static_cast<int64_t>(ref.storage_offset),
                                    ref.sizes, ref.strides);
    keep_requires_grad(tensor, ref);
    loaded.tensors.emplace_back(s.name, std::move(tensor));
  }
  return loaded;
}

}  // namespace fsdpshard::libtorch
