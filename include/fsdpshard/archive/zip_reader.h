// Reads torch.save zip archives (docs/FORMATS.md §1): the central directory (zip64 too), one
// root folder, stored records read in place with pread without touching the others.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fsdpshard/archive/read_only_file.h"

namespace fsdpshard {

struct ZipRecord {
  std::string name;          // relative to the root folder: "data.pkl", "data/0", "version"
  uint64_t data_offset = 0;  // file offset of the first data byte (after the local header)
  uint64_t size = 0;         // uncompressed size
  uint64_t compressed_size = 0;
  uint32_t crc32 = 0;        // as the central directory states it
  uint16_t method = 0;       // 0 stored, 8 deflate
};

class ZipReader {
 public:
  // Opens and indexes `path`. InputError (naming the file) when it is not a zip, is
  // truncated, or its directory is inconsistent (entries outside the file, overlaps…).
  explicit ZipReader(std::string path);

  const std::string& path() const { return path_; }
  const std::string& root() const { return root_; }  // root folder name, no slash
  uint64_t file_size() const { return file_.size(); }
  const std::vector<ZipRecord>& records() const { return records_; }

  const ZipRecord* find(std::string_view name) const;       // nullptr when absent
  const ZipRecord& require(std::string_view name) const;    // InputError when absent

  // The whole record (inflated when deflated). For small records such as data.pkl.
  std::string read(const ZipRecord& record) const;
  // `length` bytes from `offset` within a stored record, by pread. InputError when the
  // range is outside the record or the record is compressed; RuntimeFailure on I/O error.
  void read_at(const ZipRecord& record, uint64_t offset, void* dst, std::size_t length) const;
  // CRC-32 of the record's bytes, computed (libdeflate) — compare with record.crc32.
  uint32_t compute_crc(const ZipRecord& record) const;

  int fd() const { return file_.fd(); }

 private:
  std::string path_;
  ReadOnlyFile file_;
  std::string root_;
  std::vector<ZipRecord> records_;
  std::unordered_map<std::string, std::size_t> index_;  // name -> position in records_
};

}  // namespace fsdpshard
