// Errors fsdpshard reports to its user. Every failure the tool anticipates is one of
// these two kinds; the CLI maps them to exit codes (README, Commands: 0 ok, 1 runtime, 2 input).
#pragma once

#include <stdexcept>
#include <string>

namespace fsdpshard {

// Bad input or usage: a malformed file, a missing key, a typo in an option. Exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The input was fine but the work failed: I/O errors, a full disk, a lost rank. Exit code 1.
class RuntimeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<what>: <strerror(errno)>" as a RuntimeFailure, for failed system calls.
[[noreturn]] void throw_errno(const std::string& what);

}  // namespace fsdpshard
