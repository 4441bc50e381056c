// UTF-8 checks for text that came from a pickle. Python's pickle writes str with the
// 'surrogatepass' handler, so a torch file can hold lone surrogates (U+D800..U+DFFF as
// 3-byte sequences) that torch reads back but that are not UTF-8: JSON (safetensors
// headers, --json output) cannot hold them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fsdpshard::utf8 {

inline constexpr std::size_t kValid = std::string_view::npos;

// Offset of the first byte that is not UTF-8, or kValid. Shortest forms only, nothing
// past U+10FFFF, as Python's decoder; `allow_surrogates` also accepts encoded
// surrogates, as bytes.decode('utf-8', 'surrogatepass') does.
std::size_t first_invalid(std::string_view text, bool allow_surrogates);

// `text` for a message: valid UTF-8 as it is, a lone surrogate as \udcff, any other byte
// that is not UTF-8 as \xff (Python's repr spelling), so every key reads unambiguously
// enough and the terminal gets valid text.
std::string printable(std::string_view text);

// Throws InputError unless `text` is valid UTF-8, saying that `what` ("safetensors
// header", "shard index") is JSON and cannot hold it. `role` names the text: "tensor name".
void require_for_json(std::string_view text, const std::string& role, const std::string& what);

}  // namespace fsdpshard::utf8
