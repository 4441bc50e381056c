#include "fsdpshard/util/error.h"

#include <cerrno>
#include <cstring>

namespace fsdpshard {

void throw_errno(const std::string& what) {
  const int saved = errno;
  throw RuntimeFailure(what + ": " + std::strerror(saved));
}

}  // namespace fsdpshard
