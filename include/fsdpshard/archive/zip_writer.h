// Writes torch.save-compatible zip archives (docs/FORMATS.md §1): one root folder, stored
// records whose data starts 64-byte aligned, correct CRC-32 (libdeflate), zip64 when a
// size or offset reaches 4 GiB. Records stream: memory does not grow with their size.
// The layout is miniz's, byte count for byte count (local header, zip64 and padding
// extras, data descriptor), so an archive holding torch 2.7+'s '.format_version' stays
// right for torch.load's computed storage offsets.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace fsdpshard {

namespace archive {
class BufferedWriter;
}

// The record torch 2.7+ writes with the alignment its storages were saved with.
inline constexpr std::string_view kStorageAlignmentRecord = ".storage_alignment";
// Largest data alignment: its padding must fit one extra field next to a zip64 extra.
inline constexpr uint64_t kMaxAlignment = 32768;

struct ZipWriterOptions {
  // Sizes and offsets at or above this use zip64 fields. Only tests lower it.
  uint64_t zip64_threshold = 0xFFFFFFFFull;
  // Names the output in error messages ("writing <label>: no space left on device").
  std::string label = "zip archive";
  // Every record's data starts at a multiple of this (1..kMaxAlignment): torch's 64, or
  // what the '.storage_alignment' of an archive being copied says.
  uint64_t alignment = 64;
};

class ZipWriter {
 public:
  // Writes to the open file descriptor `fd` (not closed by the writer) starting at its
  // current position 0. `root` is the archive's root folder ("archive").
  ZipWriter(int fd, std::string root, ZipWriterOptions options = {});
  ~ZipWriter();
  ZipWriter(ZipWriter&&) noexcept;
  ZipWriter& operator=(ZipWriter&&) noexcept;

  // A record whose bytes are all at hand.
  void add(std::string_view name, const void* data, std::size_t size);
  void add(std::string_view name, std::string_view data) { add(name, data.data(), data.size()); }

  // A record streamed in pieces: begin with its exact size, append() until that many
  // bytes were given, then end(). The CRC is computed on the way, unless begin() was
  // given it (`known_crc`: bytes copied unchanged from a record that states its CRC).
  // Names are relative to the root; "constants.pkl" is refused (InputError: torch.load
  // would read a TorchScript archive), and '.storage_alignment' must hold the options'
  // alignment (InputError at end() otherwise; its bytes go through append()).
  void begin(std::string_view name, uint64_t size, std::optional<uint32_t> known_crc = std::nullopt);
  void append(const void* data, std::size_t size);
  // Appends `size` bytes of `in_fd` from `offset`, copied by the kernel without passing
  // through this process; only into a record begun with its CRC. `in_path` names the input.
  void append_from_file(int in_fd, uint64_t offset, uint64_t size, const std::string& in_path);
  void end();

  // Central directory, zip64 end records and the end-of-central-directory record.
  void finish();

  uint64_t bytes_written() const;

 private:
  struct Entry {
    std::string name;  // full name, root folder included
    uint64_t header_offset;
    uint64_t size;
    uint32_t crc32;
  };
  // logic_error unless a record is open with at least `size` bytes still to come.
  void check_append(uint64_t size) const;
  std::string central_header(const Entry& entry) const;
  void write_end_records(uint64_t cd_offset, uint64_t cd_size);

  std::string root_;
  ZipWriterOptions options_;
  std::unique_ptr<archive::BufferedWriter> out_;
  std::vector<Entry> entries_;
  std::unordered_set<std::string> names_;
  bool in_record_ = false;
  bool finished_ = false;
  uint64_t record_remaining_ = 0;
  uint32_t running_crc_ = 0;
  std::optional<uint32_t> known_crc_;
  bool checking_alignment_ = false;  // the open record is '.storage_alignment'
  std::string alignment_text_;       // … and these are its bytes so far
};

}  // namespace fsdpshard
