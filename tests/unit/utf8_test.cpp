// util/utf8.h: what Python's UTF-8 decoder accepts (strict, and with 'surrogatepass').
// The integration tests (data_fidelity_test) check the same against real torch files.
#include <gtest/gtest.h>

#include "util/utf8.h"

namespace fsdpshard {
namespace {

TEST(Utf8, AcceptsWhatPythonDecodes) {
  EXPECT_EQ(utf8::first_invalid("plain.key", false), utf8::kValid);
  EXPECT_EQ(utf8::first_invalid("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb5", false), utf8::kValid);
  EXPECT_EQ(utf8::first_invalid("", false), utf8::kValid);
}

TEST(Utf8, SurrogatesOnlyWithSurrogatepass) {
  const std::string lone = "a\xed\xb3\xbf";  // 'a\udcff' as pickle writes it
  EXPECT_EQ(utf8::first_invalid(lone, false), 1u);
  EXPECT_EQ(utf8::first_invalid(lone, true), utf8::kValid);
  EXPECT_EQ(utf8::printable(lone), "a\\udcff");
}

TEST(Utf8, RefusesWhatPythonRefuses) {
  EXPECT_EQ(utf8::first_invalid("a\xff", true), 1u);              // never a UTF-8 byte
  EXPECT_EQ(utf8::first_invalid("\xc0\xaf", true), 0u);           // overlong '/'
  EXPECT_EQ(utf8::first_invalid("\xe0\x80\xaf", true), 0u);       // overlong, 3 bytes
  EXPECT_EQ(utf8::first_invalid("\xf4\x90\x80\x80", true), 0u);   // past U+10FFFF
  EXPECT_EQ(utf8::first_invalid("ab\xe2\x82", true), 2u);         // truncated
  EXPECT_EQ(utf8::first_invalid("\x80", true), 0u);               // lone continuation
  EXPECT_EQ(utf8::printable("a\xff\xc3\xa9"), "a\\xff\xc3\xa9");
}

}  // namespace
}  // namespace fsdpshard
