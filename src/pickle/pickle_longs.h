// Python ints wider than int64, in the form LONG1/LONG4 carry them: two's complement,
// little-endian, as few bytes as the sign allows (0 is the empty string). Object-graph
// BigInt nodes hold this form, so the unpickler and the pickler agree on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fsdpshard::pickle_long {

// The minimal encoding of `value` ("" for 0), as CPython's encode_long writes it.
std::string encode(int64_t value);

// `bytes` without redundant sign-extension bytes (a hand-made LONG1 may carry some).
std::string minimal(std::string_view bytes);

// The value of a minimal encoding when it fits in int64.
std::optional<int64_t> to_int64(std::string_view minimal_bytes);

// Protocol-0 integer text ("-12", "+7", "123L" without the L) as a minimal encoding.
// Throws std::invalid_argument for anything else, or for more digits than CPython's
// int() accepts by default (4300), which also bounds the quadratic conversion.
std::string from_decimal(std::string_view text);

}  // namespace fsdpshard::pickle_long
