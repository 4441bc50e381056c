// Text decodings the pickle format borrows from Python: protocol 0 writes str as
// raw-unicode-escape and Python 2 byte strings as their quoted repr. These turn them
// into the bytes / UTF-8 the object graph holds. Problems throw std::invalid_argument
// with a sentence for the user; the unpickler adds the offset and opcode.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fsdpshard::pickle_text {

// Appends code point `cp` as UTF-8. Lone surrogates get the 3-byte form, as CPython's
// 'surrogatepass' handler (used by pickle for BINUNICODE) writes and reads them.
void append_utf8(std::string& out, uint32_t cp);

// Each byte as the code point of the same value (Python: bytes.decode('latin-1')).
std::string latin1_to_utf8(std::string_view bytes);

// Python's codecs.escape_decode: the body of a quoted Python 2 str repr (STRING opcode).
std::string escape_decode(std::string_view text);

// Python's raw-unicode-escape decoding (UNICODE opcode): bytes are latin-1, except
// \uXXXX and \UXXXXXXXX after an odd number of backslashes. Returns UTF-8.
std::string raw_unicode_escape_decode(std::string_view text);

}  // namespace fsdpshard::pickle_text
