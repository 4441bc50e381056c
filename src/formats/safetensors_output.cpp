#include "formats/safetensors_output.h"

#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/safetensors.h"

namespace fsdpshard {

std::string safetensors_file_plan(const OutputState& state, const std::map<std::string, std::string>& metadata,
                                  const std::string& source_path, std::vector<PlannedRecord>& records) {
  std::vector<SafetensorsTensorSpec> specs;
  records.clear();
  for (const OutputTensor& t : state.tensors) {
    if (!t.contiguous) {
      throw InputError(source_path + "['" + t.name + "'] is a non-contiguous view; safetensors stores "
                       "only contiguous tensors (use --to state-dict or --to training)");
    }
    SafetensorsTensorSpec spec;
    spec.name = t.name;
    spec.dtype = t.dtype;
    for (int64_t s : t.sizes) spec.shape.push_back(static_cast<uint64_t>(s));
    spec.nbytes = t.nbytes;
    specs.push_back(std::move(spec));
    // The tensor's own elements out of its output storage's source.
    const PlannedRecord& storage = state.storages[t.storage];
    PlannedRecord r = storage;
    r.name = t.name;
    // An untyped storage (float8 and friends) is moved as bytes; its offsets count the
    // tensor's own elements.
    const bool as_bytes = storage.source_dtype == DType::UInt8 && storage.dtype == DType::UInt8;
    const std::size_t offset_unit = as_bytes ? element_size(t.dtype) : element_size(storage.source_dtype);
    // Output storages of a single-file state are one run of one input; a tensor is a
    // sub-run of it.
    if (storage.segments.size() > 1) {
      // Assembled from several inputs (an FSDP parameter's pieces in its rank files): the
      // storage is exactly the tensor, and its record is the tensor's.
      if (t.storage_offset != 0 || t.nbytes != storage.bytes()) {
        throw InputError(source_path + "['" + t.name + "']: a storage assembled from several inputs is not a view");
      }
      records.push_back(std::move(r));
      continue;
    }
    const uint32_t input = storage.segments.empty() ? 0 : storage.segments[0].input;
    const uint64_t base = storage.segments.empty() ? 0 : storage.segments[0].offset;
    r.set_source(input, base + t.storage_offset * offset_unit, t.nbytes / element_size(storage.dtype));
    records.push_back(std::move(r));
  }
  SafetensorsMetadata meta(metadata.begin(), metadata.end());
  const std::string json = make_safetensors_header(specs, meta);
  std::string header(8, '\0');
  uint64_t length = json.size();
  for (int i = 0; i < 8; ++i) header[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xff);
  return header + json;
}

}  // namespace fsdpshard
