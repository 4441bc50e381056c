#include "archive/zip_directory.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <unordered_set>

#include "archive/byte_order.h"
#include "archive/fd_io.h"
#include "archive/zip_format.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::archive {
namespace {

// Where the central directory is, as the end records state it.
struct EndRecords {
  uint64_t entries = 0;
  uint64_t cd_size = 0;
  uint64_t cd_offset = 0;
  uint64_t limit = 0;  // first byte after the directory's allowed range: the end records
};

// A record as the central directory describes it, before its local header is read.
struct CentralEntry {
  std::string full_name;
  ZipRecord record;
  uint64_t header_offset = 0;
  uint16_t flags = 0;
};

// The central directory of a large checkpoint is a few MB; far more is not a checkpoint.
constexpr uint64_t kMaxCentralDirSize = 256ull << 20;

std::string str(uint64_t v) { return std::to_string(v); }

// a + b <= limit, without overflowing.
bool fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

class DirectoryParser {
 public:
  DirectoryParser(int fd, const std::string& path, uint64_t file_size)
      : fd_(fd), path_(path), size_(file_size) {}

  ZipDirectory parse() {
    check_magic();
    const EndRecords end = read_end_records();
    std::vector<CentralEntry> entries = read_central_directory(end);
    ZipDirectory dir;
    dir.root = find_root(entries);
    check_names(entries, dir.root);
    for (CentralEntry& e : entries) read_local_header(e, end.cd_offset);
    check_no_overlap(entries);
    for (CentralEntry& e : entries) {
      if (e.record.name.empty()) continue;  // the root folder's own directory entry
      dir.records.push_back(std::move(e.record));
    }
    return dir;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw InputError(path_ + ": " + message);
  }
  [[noreturn]] void fail_record(const std::string& name, const std::string& message) const {
    throw InputError(path_ + ": record '" + name + "': " + message);
  }

  void read(void* dst, std::size_t length, uint64_t offset, const std::string& what) const {
    pread_exact(fd_, dst, length, offset, path_, what);
  }

  void check_magic() const {
    unsigned char magic[4] = {};
    if (size_ >= 4) read(magic, 4, 0, "the zip signature");
    if (size_ < 4 || load_le32(magic) != kLocalHeaderSignature) {
      fail("not a zip archive (torch.save files start with PK\\x03\\x04)");
    }
  }

  // The end-of-central-directory record sits in the last 22 bytes plus at most a 64 KiB
  // comment; search backwards for its signature.
  uint64_t find_end_record() const {
    const uint64_t tail_size = std::min<uint64_t>(size_, kEndOfCentralDirSize + kMaxCommentSize);
    std::vector<unsigned char> tail(tail_size);
    const uint64_t tail_start = size_ - tail_size;
    read(tail.data(), tail.size(), tail_start, "the end of the file");
    if (tail_size >= kEndOfCentralDirSize) {
      for (uint64_t pos = tail_size - kEndOfCentralDirSize + 1; pos-- > 0;) {
        const unsigned char* p = tail.data() + pos;
        if (load_le32(p) != kEndOfCentralDirSignature) continue;
        const uint64_t comment = load_le16(p + 20);
        if (pos + kEndOfCentralDirSize + comment <= tail_size) return tail_start + pos;
      }
    }
    fail("truncated: no end-of-central-directory record (the zip directory at the end of "
         "the file is missing)");
  }

  EndRecords read_end_records() const {
    const uint64_t eocd_offset = find_end_record();
    unsigned char eocd[kEndOfCentralDirSize];
    read(eocd, sizeof eocd, eocd_offset, "the end-of-central-directory record");
    const uint16_t disk = load_le16(eocd + 4);
    const uint16_t cd_disk = load_le16(eocd + 6);
    const uint16_t entries_here = load_le16(eocd + 8);
    EndRecords end;
    end.entries = load_le16(eocd + 10);
    end.cd_size = load_le32(eocd + 12);
    end.cd_offset = load_le32(eocd + 16);
    end.limit = eocd_offset;

    bool zip64 = false;
    if (eocd_offset >= kZip64LocatorSize) {
      unsigned char locator[kZip64LocatorSize];
      const uint64_t locator_offset = eocd_offset - kZip64LocatorSize;
      read(locator, sizeof locator, locator_offset, "the zip64 locator");
      if (load_le32(locator) == kZip64LocatorSignature) {
        zip64 = true;
        read_zip64_end(locator, locator_offset, end);
      }
    }
    if (!zip64) {
      // With zip64 these classic fields may hold markers; the zip64 record rules.
      if (end.entries == kZip64Marker16 || end.cd_size == kZip64Marker32 ||
          end.cd_offset == kZip64Marker32) {
        fail("truncated or corrupt: the end record refers to zip64 records that are missing");
      }
      if (disk != 0 || cd_disk != 0) fail("multi-disk zip archives are not supported");
      if (entries_here != end.entries) {
        fail("corrupt end record: " + str(entries_here) + " entries on this disk but " +
             str(end.entries) + " in total");
      }
    }
    check_directory_range(end);
    return end;
  }

  void read_zip64_end(const unsigned char* locator, uint64_t locator_offset,
                      EndRecords& end) const {
    const uint32_t record_disk = load_le32(locator + 4);
    const uint64_t record_offset = load_le64(locator + 8);
    const uint32_t total_disks = load_le32(locator + 16);
    if (record_disk != 0 || total_disks > 1) fail("multi-disk zip archives are not supported");
    if (!fits(record_offset, kZip64EndOfCentralDirSize, locator_offset)) {
      fail("corrupt zip64 locator: it points to offset " + str(record_offset) +
           ", past the end records at " + str(locator_offset));
    }
    unsigned char rec[kZip64EndOfCentralDirSize];
    read(rec, sizeof rec, record_offset, "the zip64 end-of-central-directory record");
    if (load_le32(rec) != kZip64EndOfCentralDirSignature) {
      fail("corrupt zip64 locator: no zip64 end record at offset " + str(record_offset));
    }
    const uint64_t record_size = load_le64(rec + 4);  // excludes the first 12 bytes
    if (record_size < kZip64EndOfCentralDirSize - 12 ||
        !fits(record_offset + 12, record_size, locator_offset)) {
      fail("corrupt zip64 end record: its size " + str(record_size) + " is wrong");
    }
    const uint32_t disk = load_le32(rec + 16);
    const uint32_t cd_disk = load_le32(rec + 20);
    const uint64_t entries_here = load_le64(rec + 24);
    end.entries = load_le64(rec + 32);
    end.cd_size = load_le64(rec + 40);
    end.cd_offset = load_le64(rec + 48);
    end.limit = record_offset;
    if (disk != 0 || cd_disk != 0) fail("multi-disk zip archives are not supported");
    if (entries_here != end.entries) {
      fail("corrupt zip64 end record: " + str(entries_here) + " entries on this disk but " +
           str(end.entries) + " in total");
    }
  }

  void check_directory_range(const EndRecords& end) const {
    if (!fits(end.cd_offset, end.cd_size, size_)) {
      fail("truncated: the central directory (offset " + str(end.cd_offset) + ", " +
           str(end.cd_size) + " bytes) lies beyond the end of the file (" + str(size_) +
           " bytes)");
    }
    if (!fits(end.cd_offset, end.cd_size, end.limit)) {
      fail("corrupt zip directory: the central directory (offset " + str(end.cd_offset) +
           ", " + str(end.cd_size) + " bytes) overlaps the end records at offset " +
           str(end.limit));
    }
    if (end.entries == 0) fail("the zip archive has no records");
    if (end.cd_size > kMaxCentralDirSize) {
      fail("corrupt zip directory: a central directory of " + str(end.cd_size) +
           " bytes is larger than any checkpoint has");
    }
    if (end.entries > end.cd_size / kCentralHeaderSize) {
      fail("corrupt zip directory: " + str(end.entries) + " entries cannot fit in a central "
           "directory of " + str(end.cd_size) + " bytes");
    }
  }

  std::vector<CentralEntry> read_central_directory(const EndRecords& end) const {
    std::vector<unsigned char> cd(end.cd_size);
    read(cd.data(), cd.size(), end.cd_offset, "the central directory");
    std::vector<CentralEntry> entries;
    entries.reserve(end.entries);
    uint64_t pos = 0;
    for (uint64_t i = 0; i < end.entries; ++i) {
      if (!fits(pos, kCentralHeaderSize, cd.size())) {
        fail("corrupt zip directory: it ends after " + str(i) + " of " + str(end.entries) +
             " entries");
      }
      entries.push_back(parse_central_entry(cd.data() + pos, cd.size() - pos, i, pos));
    }
    if (pos != cd.size()) {
      fail("corrupt zip directory: " + str(end.entries) + " entries use " + str(pos) +
           " bytes but the directory has " + str(cd.size()));
    }
    return entries;
  }

  // Parses the entry at `p` (with `avail` bytes left); advances `pos` past it.
  CentralEntry parse_central_entry(const unsigned char* p, uint64_t avail, uint64_t index,
                                   uint64_t& pos) const {
    if (load_le32(p) != kCentralHeaderSignature) {
      fail("corrupt zip directory: entry " + str(index) + " has no central header signature");
    }
    const uint16_t name_len = load_le16(p + 28);
    const uint16_t extra_len = load_le16(p + 30);
    const uint16_t comment_len = load_le16(p + 32);
    const uint64_t total = uint64_t{kCentralHeaderSize} + name_len + extra_len + comment_len;
    if (total > avail) {
      fail("corrupt zip directory: entry " + str(index) + " runs past the directory's end");
    }
    CentralEntry e;
    e.full_name.assign(reinterpret_cast<const char*>(p + kCentralHeaderSize), name_len);
    e.flags = load_le16(p + 8);
    e.record.method = load_le16(p + 10);
    e.record.crc32 = load_le32(p + 16);
    e.record.compressed_size = load_le32(p + 20);
    e.record.size = load_le32(p + 24);
    const uint16_t disk_start = load_le16(p + 34);
    e.header_offset = load_le32(p + 42);
    parse_zip64_extra(p + kCentralHeaderSize + name_len, extra_len, e, disk_start);
    pos += total;
    return e;
  }

  // Fields holding 0xFFFFFFFF continue in the zip64 extra, in a fixed order, each only
  // when its field is marked.
  void parse_zip64_extra(const unsigned char* extra, uint16_t length, CentralEntry& e,
                         uint16_t disk_start) const {
    uint64_t* fields[3] = {&e.record.size, &e.record.compressed_size, &e.header_offset};
    const bool marked[3] = {e.record.size == kZip64Marker32,
                            e.record.compressed_size == kZip64Marker32,
                            e.header_offset == kZip64Marker32};
    const bool any = marked[0] || marked[1] || marked[2];
    bool found = false;
    uint32_t pos = 0;
    while (pos + 4 <= length) {
      const uint16_t id = load_le16(extra + pos);
      const uint16_t size = load_le16(extra + pos + 2);
      if (pos + 4u + size > length) fail_record(e.full_name, "extra field runs past its end");
      const unsigned char* data = extra + pos + 4;
      if (id == kZip64ExtraId && any && !found) {
        found = true;
        uint32_t at = 0;
        for (int i = 0; i < 3; ++i) {
          if (!marked[i]) continue;
          if (at + 8 > size) fail_record(e.full_name, "zip64 extra field is too short");
          *fields[i] = load_le64(data + at);
          at += 8;
        }
      }
      pos += 4u + size;
    }
    if (any && !found) {
      fail_record(e.full_name, "sizes or offset need a zip64 extra field, which is missing");
    }
    if (disk_start != 0 && disk_start != kZip64Marker16) {
      fail("multi-disk zip archives are not supported");
    }
  }

  std::string find_root(const std::vector<CentralEntry>& entries) const {
    const std::string& first = entries.front().full_name;
    const std::size_t slash = first.find('/');
    if (slash == std::string::npos || slash == 0) {
      fail_record(first, "not inside a root folder (torch.save archives keep every record "
                         "under one folder)");
    }
    return first.substr(0, slash);
  }

  void check_names(std::vector<CentralEntry>& entries, const std::string& root) const {
    const std::string prefix = root + "/";
    std::unordered_set<std::string> seen;
    for (CentralEntry& e : entries) {
      if (e.full_name.compare(0, prefix.size(), prefix) != 0) {
        fail_record(e.full_name, "outside the root folder '" + root + "'");
      }
      e.record.name = e.full_name.substr(prefix.size());
      if (!seen.insert(e.record.name).second) fail_record(e.record.name, "appears twice");
      if (!e.record.name.empty() && e.record.name.back() == '/' && e.record.size == 0) {
        e.record.name.clear();  // a folder entry: nothing to read, dropped like the root's
      }
    }
  }

  void read_local_header(CentralEntry& e, uint64_t cd_offset) const {
    const std::string& name = e.record.name.empty() ? e.full_name : e.record.name;
    ZipRecord& r = e.record;
    if (e.flags & kFlagEncrypted) fail_record(name, "encrypted records are not supported");
    if (r.method != kMethodStored && r.method != kMethodDeflate) {
      fail_record(name, "compression method " + str(r.method) +
                            " is not supported (torch.save stores records uncompressed)");
    }
    if (r.method == kMethodStored && r.size != r.compressed_size) {
      fail_record(name, "stored record has size " + str(r.size) + " but compressed size " +
                            str(r.compressed_size));
    }
    const std::string& stored_name = e.full_name;
    const uint64_t header_bytes = uint64_t{kLocalHeaderSize} + stored_name.size();
    if (!fits(e.header_offset, header_bytes, cd_offset)) {
      fail_record(name, "local header at offset " + str(e.header_offset) +
                            " lies outside the data area (which ends at " + str(cd_offset) +
                            ")");
    }
    std::vector<unsigned char> local(header_bytes);
    read(local.data(), local.size(), e.header_offset, "the local header of '" + name + "'");
    if (load_le32(local.data()) != kLocalHeaderSignature) {
      fail_record(name, "no local header at offset " + str(e.header_offset));
    }
    const uint16_t local_name_len = load_le16(local.data() + 26);
    const uint16_t local_extra_len = load_le16(local.data() + 28);
    if (local_name_len != stored_name.size() ||
        std::memcmp(local.data() + kLocalHeaderSize, stored_name.data(), stored_name.size()) !=
            0) {
      fail_record(name, "local header names a different record");
    }
    r.data_offset = e.header_offset + kLocalHeaderSize + local_name_len + local_extra_len;
    if (!fits(r.data_offset, r.compressed_size, cd_offset)) {
      fail_record(name, "data (offset " + str(r.data_offset) + ", " + str(r.compressed_size) +
                            " bytes) runs into the central directory at " + str(cd_offset));
    }
  }

  void check_no_overlap(const std::vector<CentralEntry>& entries) const {
    std::vector<std::size_t> order(entries.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return entries[a].header_offset < entries[b].header_offset;
    });
    for (std::size_t i = 1; i < order.size(); ++i) {
      const CentralEntry& prev = entries[order[i - 1]];
      const CentralEntry& next = entries[order[i]];
      if (prev.record.data_offset + prev.record.compressed_size > next.header_offset) {
        fail("corrupt zip directory: records '" + prev.full_name + "' and '" + next.full_name +
             "' overlap");
      }
    }
  }

  int fd_;
  const std::string& path_;
  uint64_t size_;
};

}  // namespace

ZipDirectory read_zip_directory(int fd, const std::string& path, uint64_t file_size) {
  return DirectoryParser(fd, path, file_size).parse();
}

}  // namespace fsdpshard::archive
