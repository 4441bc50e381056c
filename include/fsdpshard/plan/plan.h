// A transfer plan: derived by every rank from metadata alone, the
// same everywhere, it says which bytes each output file holds, where they come from, who
// reads them and who writes the file. The executor only moves bytes by it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fsdpshard/util/dtype.h"
#include "fsdpshard/formats/file_encoding.h"

namespace fsdpshard {

// A contiguous run of elements in one input file, or a run of zeros (input == kZeros):
// FSDP's flat parameters pad between and after parameters, and a re-laid-out shard must
// hold that padding without any input file having it where it is needed.
struct SourceSegment {
  static constexpr uint32_t kZeros = UINT32_MAX;
  uint32_t input = 0;    // index into Plan::inputs, or kZeros (nothing is read)
  uint64_t offset = 0;   // absolute byte offset in that file
  uint64_t count = 0;    // elements (of the record's source_dtype)
};

// One output record (a zip record "data/3", or one safetensors tensor): the elements of
// its segments, read in order (possibly from different input files, as when a parameter
// is reassembled from FSDP rank files), cast from `source_dtype` to `dtype` on the way.
struct PlannedRecord {
  std::string name;            // "data/3" (torch) or the tensor name (safetensors)
  std::vector<SourceSegment> segments;
  uint64_t count = 0;          // elements: the sum of the segments' counts
  DType source_dtype = DType::UInt8;
  DType dtype = DType::UInt8;
  int reader = 0;              // rank that reads (and casts) the bytes
  // The CRC-32 of the record's output bytes when planning knows it: a whole input zip
  // record copied unchanged keeps its CRC (a corrupt input stays detectably corrupt, and
  // the bytes need not pass through this process to be summed). See copies_unchanged().
  std::optional<uint32_t> crc32;
  uint64_t source_bytes() const { return count * element_size(source_dtype); }
  uint64_t bytes() const { return count * element_size(dtype); }
  // Replaces the segments with one run of `count` elements at `offset` of `input`.
  void set_source(uint32_t input, uint64_t offset, uint64_t count);
  void add_segment(uint32_t input, uint64_t offset, uint64_t count);  // appends, adds to count
  void add_zeros(uint64_t count);  // appends `count` zero elements
  // One run of one input file, not cast: the kernel can copy it file to file.
  bool copies_unchanged() const;
};

struct PlannedFile {
  std::string name;          // file name relative to the output location
  // What writes the file around its records (formats/file_encoding.h), chosen by the
  // format that planned it.
  std::shared_ptr<const FileEncoding> encoding = torch_zip_encoding();
  int writer = 0;            // rank that writes it
  std::string archive_root;  // torch zip: the zip's root folder
  std::string header;        // torch zip: data.pkl; raw bytes: what precedes the records (all of a text file)
  std::vector<PlannedRecord> records;  // in file order
  uint64_t bytes() const;    // tensor bytes written
};

struct Plan {
  std::vector<std::string> inputs;  // input file paths
  // Where the files go: a file path when `single_file`, else a folder made all at once.
  std::string output;
  bool single_file = true;
  std::vector<PlannedFile> files;
  uint64_t read_bytes(int rank) const;   // bytes `rank` reads from inputs
  uint64_t total_bytes() const;          // tensor bytes written, all files
};

// A plan with what the command says of it.
struct PlannedJob {
  Plan plan;
  std::string dry_run_text;  // what --dry-run prints (besides the rank table)
  std::string what;          // "gathered 312 tensors" for the summary line
};

// Assigns every record a reader so that the bytes read are balanced over `ranks`:
// largest first, each to the least loaded rank, ties to the lower rank (deterministic).
void assign_readers(Plan& plan, int ranks);

}  // namespace fsdpshard
