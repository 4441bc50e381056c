#include "support/test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace fsdpshard::test {
namespace fs = std::filesystem;

std::string fixture_dir() {
  const char* env = std::getenv("FSDPSHARD_FIXTURES");
  return env ? env : FSDPSHARD_FIXTURES;
}
std::string fixture(const std::string& name) { return fixture_dir() + "/" + name; }
std::string source_dir() { return FSDPSHARD_SOURCE_DIR; }
std::string python() { return FSDPSHARD_PYTHON; }
std::string fsdpshard_binary() { return FSDPSHARD_BINARY; }
std::string mpiexec() { return FSDPSHARD_MPIEXEC; }

std::string torch2_python() {
  if (const char* env = std::getenv("FSDPSHARD_TORCH2_PYTHON"); env && *env) {
    return fs::exists(env) ? env : "";
  }
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::string base = cache && *cache ? cache : std::string(home ? home : "") + "/.cache";
  const std::string venv = base + "/fsdpshard/venv-torch2/bin/python";
  return fs::exists(venv) ? venv : "";
}

bool torch2_required() {
  const auto set = [](const char* name, const char* value) {
    const char* env = std::getenv(name);
    return env && std::string(env) == value;
  };
  return set("CI", "true") || set("FSDPSHARD_REQUIRE_TORCH2", "1");
}

CommandResult run(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error("cannot start " + argv[0]);
  }
  CommandResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandResult run_python(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv{python(), source_dir() + "/tests/python/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

CommandResult run_python2(const std::string& torch2, const std::string& script,
                          const std::vector<std::string>& args) {
  std::vector<std::string> argv{torch2, source_dir() + "/tests/python/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

CommandResult run_fsdpshard(const std::vector<std::string>& args) {
  std::vector<std::string> argv{fsdpshard_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

CommandResult run_fsdpshard_mpi(int ranks, const std::vector<std::string>& args,
                                const std::vector<std::string>& extra_env) {
  // Root is allowed to run mpirun only with these; CMA (single-copy) is often forbidden
  // in containers, copying through shared memory always works.
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);
  // The job's variables go into mpirun's own environment, which the ranks it starts on
  // this host inherit: Open MPI refuses `-x` next to mca_base_env_list (launch/sanitize.sh).
  std::vector<std::string> argv{"env"};
  argv.insert(argv.end(), extra_env.begin(), extra_env.end());
  argv.insert(argv.end(), {mpiexec(), "--oversubscribe", "--bind-to", "none", "-np", std::to_string(ranks)});
  argv.push_back(fsdpshard_binary());
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "fsdpshard-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out) throw std::runtime_error("cannot write " + path);
}

bool file_exists(const std::string& path) { return fs::exists(path); }

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(path)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace fsdpshard::test
