// Byte-level encoding of the protocol-2 opcodes the pickler may use (docs/FORMATS.md §2):
// each method appends one value in its most compact allowed form. No graph knowledge.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fsdpshard/util/error.h"
#include "pickle/pickle_longs.h"
#include "pickle/pickle_opcodes.h"

namespace fsdpshard::pickle_detail {

class PickleWriter {
 public:
  std::string& bytes() { return out_; }

  void op(uint8_t code) { out_.push_back(static_cast<char>(code)); }

  void integer(int64_t value) {
    if (value >= 0 && value < 0x100) {
      op(pickle_op::BININT1);
      le(static_cast<uint64_t>(value), 1);
    } else if (value >= 0 && value < 0x10000) {
      op(pickle_op::BININT2);
      le(static_cast<uint64_t>(value), 2);
    } else if (value >= INT32_MIN && value <= INT32_MAX) {
      op(pickle_op::BININT);
      le(static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(value))), 4);
    } else {
      long_bytes(pickle_long::encode(value));
    }
  }

  // A two's complement little-endian integer (BigInt nodes hold this form).
  void long_bytes(std::string_view twos_complement) {
    if (twos_complement.size() < 0x100) {
      op(pickle_op::LONG1);
      le(twos_complement.size(), 1);
    } else {
      if (twos_complement.size() > INT32_MAX) throw InputError("pickle: integer too large");
      op(pickle_op::LONG4);
      le(twos_complement.size(), 4);
    }
    out_.append(twos_complement);
  }

  void floating(double value) {
    op(pickle_op::BINFLOAT);
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(bits >> shift));
  }

  void unicode(std::string_view utf8) {
    if (utf8.size() > UINT32_MAX) {
      throw InputError("pickle: a string of " + std::to_string(utf8.size()) +
                       " bytes exceeds protocol 2's 4 GiB limit");
    }
    op(pickle_op::BINUNICODE);
    le(utf8.size(), 4);
    out_.append(utf8);
  }

  // GLOBAL takes newline-terminated names; a newline inside one would shift the stream.
  void global(std::string_view module, std::string_view name) {
    if (module.find('\n') != std::string_view::npos || name.find('\n') != std::string_view::npos) {
      throw InputError("pickle: a global name contains a newline");
    }
    op(pickle_op::GLOBAL);
    out_.append(module);
    out_.push_back('\n');
    out_.append(name);
    out_.push_back('\n');
  }

  void memo_put(uint64_t index) { memo_op(index, pickle_op::BINPUT, pickle_op::LONG_BINPUT); }
  void memo_get(uint64_t index) { memo_op(index, pickle_op::BINGET, pickle_op::LONG_BINGET); }

 private:
  void le(uint64_t value, int width) {
    for (int i = 0; i < width; ++i, value >>= 8) out_.push_back(static_cast<char>(value & 0xff));
  }
  void memo_op(uint64_t index, uint8_t short_code, uint8_t long_code) {
    if (index < 0x100) {
      op(short_code);
      le(index, 1);
    } else {
      if (index > UINT32_MAX) throw InputError("pickle: more than 2^32 memoized objects");
      op(long_code);
      le(index, 4);
    }
  }

  std::string out_;
};

}  // namespace fsdpshard::pickle_detail
