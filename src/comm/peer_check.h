// Argument checks shared by the backends. A bad peer or tag is a bug in the caller (the
// executor derives every peer from the plan), so these throw std::logic_error rather than
// a user-facing error.
#pragma once

namespace fsdpshard {

class Communicator;

// Throws std::logic_error unless 0 <= peer < size, peer != rank and 0 <= tag.
// `what` names the operation ("send", "recv") for the message.
void check_peer(const Communicator& comm, int peer, int tag, const char* what);

}  // namespace fsdpshard
