// Signal handlers that remove this process's temporary outputs before it dies: mpirun
// sends SIGTERM to the surviving ranks when one fails, a user presses Ctrl-C (SIGINT),
// a terminal hangs up (SIGHUP). After cleaning, the signal takes its course: a handler
// installed before ours is called, otherwise the default action ends the process.
#include <signal.h>

#include <atomic>
#include <cerrno>

#include "archive/temp_registry.h"
#include "fsdpshard/archive/atomic_file.h"

namespace fsdpshard {
namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP};
constexpr int kSignalCount = sizeof kSignals / sizeof kSignals[0];

struct sigaction g_previous[kSignalCount];
std::atomic<bool> g_installed{false};

int signal_index(int sig) {
  for (int i = 0; i < kSignalCount; ++i) {
    if (kSignals[i] == sig) return i;
  }
  return -1;
}

void on_fatal_signal(int sig, siginfo_t* info, void* context) {
  const int saved = errno;
  archive::remove_registered_temp_paths();
  const int i = signal_index(sig);
  const struct sigaction& previous = g_previous[i];
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction) {
      previous.sa_sigaction(sig, info, context);
      errno = saved;
      return;
    }
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    errno = saved;
    return;
  }
  // Default action: restore it and send the signal again. It stays blocked while this
  // handler runs and is delivered when it returns, ending the process as it would have.
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(sig, &fallback, nullptr);
  raise(sig);
  errno = saved;
}

}  // namespace

void remove_temp_outputs_now() noexcept { archive::remove_registered_temp_paths(); }

void install_cleanup_signal_handlers() {
  if (g_installed.exchange(true)) return;
  for (int i = 0; i < kSignalCount; ++i) {
    struct sigaction previous {};
    sigaction(kSignals[i], nullptr, &previous);
    g_previous[i] = previous;
    // A signal the process was told to ignore (nohup) stays ignored.
    if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_sigaction = on_fatal_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (int sig : kSignals) sigaddset(&action.sa_mask, sig);
    sigaction(kSignals[i], &action, nullptr);
  }
  // Past a file-size limit (ulimit -f) the kernel would kill us with SIGXFSZ before any
  // cleanup; ignored, the write fails with EFBIG and the error path removes the output.
  signal(SIGXFSZ, SIG_IGN);
}

}  // namespace fsdpshard
