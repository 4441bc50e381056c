// Catching the InputError a call is expected to throw, to check what it says.
#pragma once

#include <functional>
#include <string>

namespace fsdpshard::test {

// The message of the InputError `f` throws, or "(no InputError)" when it throws none
// (any other exception passes through and fails the test).
std::string message_of(const std::function<void()>& f);

}  // namespace fsdpshard::test
