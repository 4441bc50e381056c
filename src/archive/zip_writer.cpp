#include "fsdpshard/archive/zip_writer.h"

#include <stdexcept>

#include "archive/buffered_writer.h"
#include "archive/byte_order.h"
#include "archive/zip_format.h"
#include "fsdpshard/archive/crc32.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard {

using namespace archive;

namespace {

// Records get a fixed timestamp (1980-01-01 00:00, the DOS epoch) so that the same
// input gives the same bytes.
constexpr uint16_t kDosTime = 0;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;

uint16_t name_flags(const std::string& name) {
  for (unsigned char c : name) {
    if (c >= 0x80) return kFlagUtf8Name;
  }
  return 0;
}

uint32_t field32(uint64_t value, bool zip64) {
  return zip64 ? kZip64Marker32 : static_cast<uint32_t>(value);
}

}  // namespace

ZipWriter::ZipWriter(int fd, std::string root, ZipWriterOptions options)
    : root_(std::move(root)), options_(std::move(options)) {
  if (options_.alignment < 1 || options_.alignment > kMaxAlignment) {
    throw std::invalid_argument("ZipWriter: alignment " + std::to_string(options_.alignment) + " is not in 1.." +
                                std::to_string(kMaxAlignment));
  }
  if (root_.empty() || root_.find('/') != std::string::npos) {
    throw std::invalid_argument("ZipWriter: root folder '" + root_ + "' must be one plain name");
  }
  out_ = std::make_unique<BufferedWriter>(fd, "writing " + options_.label);
}

ZipWriter::~ZipWriter() = default;
ZipWriter::ZipWriter(ZipWriter&&) noexcept = default;
ZipWriter& ZipWriter::operator=(ZipWriter&&) noexcept = default;

uint64_t ZipWriter::bytes_written() const { return out_ ? out_->position() : 0; }

void ZipWriter::add(std::string_view name, const void* data, std::size_t size) {
  begin(name, size);
  append(data, size);
  end();
}

void ZipWriter::begin(std::string_view name, uint64_t size, std::optional<uint32_t> known_crc) {
  if (in_record_ || finished_) throw std::logic_error("ZipWriter::begin: record still open or archive finished");
  if (name.empty()) throw std::invalid_argument("ZipWriter: empty record name");
  if (name == "constants.pkl") {
    throw InputError("refusing to write record 'constants.pkl': torch.load would read the archive as TorchScript");
  }
  Entry entry{root_ + "/" + std::string(name), out_->position(), size, 0};
  if (entry.name.size() > 0xFFFF) throw InputError("record name too long: " + entry.name);
  if (!names_.insert(entry.name).second) {
    throw std::logic_error("ZipWriter: record '" + std::string(name) + "' written twice");
  }
  checking_alignment_ = name == kStorageAlignmentRecord;
  if (checking_alignment_ && size > 16) {
    throw InputError("refusing to write record '.storage_alignment' of " + std::to_string(size) + " bytes");
  }
  alignment_text_.clear();

  // miniz's layout (mz_zip_writer_add_mem_ex_v2 as PyTorch calls it), which torch.load
  // reproduces when it computes storage offsets instead of reading them (files with
  // '.format_version'): a local zip64 extra when the size or the header's own offset
  // reaches 4 GiB, holding both sizes and/or that offset; then the "FB" padding extra
  // (present even when empty) so the data starts on an `alignment` boundary.
  const bool big_size = size >= options_.zip64_threshold;
  const bool big_offset = entry.header_offset >= options_.zip64_threshold;
  const std::size_t zip64_extra = big_size || big_offset ? 4 + (big_size ? 16 : 0) + (big_offset ? 8 : 0) : 0;
  const uint64_t unpadded =
      entry.header_offset + kLocalHeaderSize + entry.name.size() + zip64_extra + 4;
  const uint64_t alignment = options_.alignment;
  const uint16_t padding = static_cast<uint16_t>((alignment - unpadded % alignment) % alignment);

  std::string header;
  header.reserve(kLocalHeaderSize + entry.name.size() + zip64_extra + 4 + padding);
  put_le32(header, kLocalHeaderSignature);
  put_le16(header, zip64_extra ? kVersionZip64 : kVersionDefault);
  // A record with bytes gets its CRC and sizes in a data descriptor after them (as miniz
  // does), so nothing before the data waits for it; the local fields stay 0, or mark
  // the sizes as being in the zip64 extra.
  put_le16(header, static_cast<uint16_t>(name_flags(entry.name) | (size > 0 ? kFlagDataDescriptor : 0)));
  put_le16(header, kMethodStored);
  put_le16(header, kDosTime);
  put_le16(header, kDosDate);
  put_le32(header, 0);  // CRC-32: in the data descriptor (0 is also the CRC of no bytes)
  put_le32(header, big_size ? kZip64Marker32 : 0);  // compressed size
  put_le32(header, big_size ? kZip64Marker32 : 0);  // uncompressed size
  put_le16(header, static_cast<uint16_t>(entry.name.size()));
  put_le16(header, static_cast<uint16_t>(zip64_extra + 4 + padding));
  header += entry.name;
  if (zip64_extra) {
    // Only the fields that need 64 bits, in APPNOTE 4.5.3's order.
    put_le16(header, kZip64ExtraId);
    put_le16(header, static_cast<uint16_t>(zip64_extra - 4));
    if (big_size) {
      put_le64(header, size);
      put_le64(header, size);
    }
    if (big_offset) put_le64(header, entry.header_offset);
  }
  put_le16(header, kPaddingExtraId);
  put_le16(header, padding);
  header.append(padding, 'Z');
  out_->write(header);

  entries_.push_back(std::move(entry));
  in_record_ = true;
  record_remaining_ = size;
  running_crc_ = 0;
  known_crc_ = known_crc;
}

void ZipWriter::append(const void* data, std::size_t size) {
  check_append(size);
  if (!known_crc_) running_crc_ = crc32_update(running_crc_, data, size);
  if (checking_alignment_) alignment_text_.append(static_cast<const char*>(data), size);
  out_->write(data, size);
  record_remaining_ -= size;
}

void ZipWriter::append_from_file(int in_fd, uint64_t offset, uint64_t size, const std::string& in_path) {
  check_append(size);
  if (!known_crc_) throw std::logic_error("ZipWriter::append_from_file: the record was begun without its CRC");
  if (checking_alignment_) throw std::logic_error("ZipWriter: '.storage_alignment' is checked, give its bytes to append()");
  out_->copy_from(in_fd, offset, size, in_path, "tensor bytes at offset " + std::to_string(offset));
  record_remaining_ -= size;
}

void ZipWriter::check_append(uint64_t size) const {
  if (!in_record_) throw std::logic_error("ZipWriter: append outside a record");
  if (size > record_remaining_) {
    throw std::logic_error("ZipWriter: record '" + entries_.back().name + "' got " + std::to_string(size) +
                           " bytes with " + std::to_string(record_remaining_) + " left");
  }
}

void ZipWriter::end() {
  if (!in_record_) throw std::logic_error("ZipWriter::end outside a record");
  Entry& entry = entries_.back();
  if (record_remaining_ != 0) {
    throw std::logic_error("ZipWriter::end: record '" + entry.name + "' is " +
                           std::to_string(record_remaining_) + " bytes short");
  }
  if (checking_alignment_ && alignment_text_ != std::to_string(options_.alignment)) {
    // torch.load computes storage offsets from this number (docs/FORMATS.md §1): it must be
    // the alignment the records are really written with.
    throw InputError("refusing to write record '.storage_alignment' = '" + alignment_text_ +
                     "': the records are aligned to " + std::to_string(options_.alignment));
  }
  entry.crc32 = known_crc_ ? *known_crc_ : running_crc_;
  if (entry.size > 0) {
    // miniz's data descriptor: 64-bit sizes once the size or the header offset needs zip64.
    std::string descriptor;
    put_le32(descriptor, kDataDescriptorSignature);
    put_le32(descriptor, entry.crc32);
    if (entry.size >= options_.zip64_threshold || entry.header_offset >= options_.zip64_threshold) {
      put_le64(descriptor, entry.size);
      put_le64(descriptor, entry.size);
    } else {
      put_le32(descriptor, static_cast<uint32_t>(entry.size));
      put_le32(descriptor, static_cast<uint32_t>(entry.size));
    }
    out_->write(descriptor);
  }
  in_record_ = false;
}

std::string ZipWriter::central_header(const Entry& entry) const {
  const bool big_offset = entry.header_offset >= options_.zip64_threshold;
  // miniz (torch.load) checks "offset + size <= archive size" with the raw 32-bit offset
  // field whenever the size field is not marked: a marked offset with a plain size would
  // fail that check unless the archive really extends past 4 GiB. So an entry that needs
  // zip64 at all carries its sizes in the zip64 extra too.
  const bool big_size = entry.size >= options_.zip64_threshold || big_offset;
  std::string extra;
  if (big_size || big_offset) {
    // Only the fields marked 0xFFFFFFFF appear, in this order.
    put_le16(extra, kZip64ExtraId);
    put_le16(extra, static_cast<uint16_t>((big_size ? 16 : 0) + (big_offset ? 8 : 0)));
    if (big_size) {
      put_le64(extra, entry.size);
      put_le64(extra, entry.size);
    }
    if (big_offset) put_le64(extra, entry.header_offset);
  }
  const uint16_t version = extra.empty() ? kVersionDefault : kVersionZip64;
  std::string h;
  h.reserve(kCentralHeaderSize + entry.name.size() + extra.size());
  put_le32(h, kCentralHeaderSignature);
  put_le16(h, version);  // made by (MS-DOS attributes: none)
  put_le16(h, version);  // needed to extract
  put_le16(h, name_flags(entry.name));
  put_le16(h, kMethodStored);
  put_le16(h, kDosTime);
  put_le16(h, kDosDate);
  put_le32(h, entry.crc32);
  put_le32(h, field32(entry.size, big_size));
  put_le32(h, field32(entry.size, big_size));
  put_le16(h, static_cast<uint16_t>(entry.name.size()));
  put_le16(h, static_cast<uint16_t>(extra.size()));
  put_le16(h, 0);  // comment length
  put_le16(h, 0);  // disk number start
  put_le16(h, 0);  // internal attributes
  put_le32(h, 0);  // external attributes
  put_le32(h, field32(entry.header_offset, big_offset));
  h += entry.name;
  h += extra;
  return h;
}

void ZipWriter::finish() {
  if (in_record_ || finished_) throw std::logic_error("ZipWriter::finish: record open or already finished");
  const uint64_t cd_offset = out_->position();
  for (const Entry& entry : entries_) out_->write(central_header(entry));
  write_end_records(cd_offset, out_->position() - cd_offset);
  out_->flush();
  finished_ = true;
}

// PyTorch opens miniz with zip64 enabled, so its archives always end with the zip64 end
// record and locator before the classic end record; we do the same.
void ZipWriter::write_end_records(uint64_t cd_offset, uint64_t cd_size) {
  const uint64_t zip64_offset = out_->position();
  const uint64_t count = entries_.size();
  std::string end;
  put_le32(end, kZip64EndOfCentralDirSignature);
  put_le64(end, kZip64EndOfCentralDirSize - 12);  // size of the rest of this record
  put_le16(end, kVersionZip64);
  put_le16(end, kVersionZip64);
  put_le32(end, 0);  // this disk
  put_le32(end, 0);  // disk with the central directory
  put_le64(end, count);
  put_le64(end, count);
  put_le64(end, cd_size);
  put_le64(end, cd_offset);

  put_le32(end, kZip64LocatorSignature);
  put_le32(end, 0);  // disk with the zip64 end record
  put_le64(end, zip64_offset);
  put_le32(end, 1);  // total disks

  const uint16_t count16 = count >= kZip64Marker16 ? kZip64Marker16 : static_cast<uint16_t>(count);
  put_le32(end, kEndOfCentralDirSignature);
  put_le16(end, 0);
  put_le16(end, 0);
  put_le16(end, count16);
  put_le16(end, count16);
  put_le32(end, field32(cd_size, cd_size >= options_.zip64_threshold));
  put_le32(end, field32(cd_offset, cd_offset >= options_.zip64_threshold));
  put_le16(end, 0);  // comment length
  out_->write(end);
}

}  // namespace fsdpshard
