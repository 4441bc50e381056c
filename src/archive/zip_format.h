// Record layouts of the zip format (PKWARE APPNOTE 6.3) that torch.save files use: the
// fixed part of each header, its signature, and the zip64 markers.
#pragma once

#include <cstdint>

namespace fsdpshard::archive {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;        // PK\3\4
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;      // PK\1\2
constexpr uint32_t kEndOfCentralDirSignature = 0x06054b50;    // PK\5\6
constexpr uint32_t kZip64EndOfCentralDirSignature = 0x06064b50;  // PK\6\6
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;       // PK\6\7
constexpr uint32_t kDataDescriptorSignature = 0x08074b50;     // PK\7\8

constexpr uint32_t kLocalHeaderSize = 30;
constexpr uint32_t kCentralHeaderSize = 46;
constexpr uint32_t kEndOfCentralDirSize = 22;
constexpr uint32_t kZip64EndOfCentralDirSize = 56;
constexpr uint32_t kZip64LocatorSize = 20;
constexpr uint32_t kMaxCommentSize = 0xFFFF;

// A 32-bit field holding this value means "see the zip64 extra field / end record".
constexpr uint32_t kZip64Marker32 = 0xFFFFFFFFu;
constexpr uint16_t kZip64Marker16 = 0xFFFF;

constexpr uint16_t kZip64ExtraId = 0x0001;
// PyTorch's alignment padding: a local-header extra field "FB" filled with 'Z'.
constexpr uint16_t kPaddingExtraId = 0x4246;

constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflate = 8;
constexpr uint16_t kFlagEncrypted = 0x0001;
constexpr uint16_t kFlagDataDescriptor = 0x0008;  // CRC and sizes follow the data
constexpr uint16_t kFlagUtf8Name = 0x0800;

constexpr uint16_t kVersionDefault = 20;  // 2.0: what a stored record needs
constexpr uint16_t kVersionZip64 = 45;    // 4.5: zip64 extensions

}  // namespace fsdpshard::archive
