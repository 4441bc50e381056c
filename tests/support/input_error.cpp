#include "support/input_error.h"

#include "fsdpshard/util/error.h"

namespace fsdpshard::test {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

}  // namespace fsdpshard::test
