// Helpers shared by the tests: where fixtures and tools are, running commands, temp dirs.
#pragma once

#include <string>
#include <vector>

namespace fsdpshard::test {

// Folder of the fixtures written at test time by tests/fixtures/make_fixtures.py.
std::string fixture_dir();
std::string fixture(const std::string& name);  // fixture_dir() + "/" + name
std::string source_dir();                      // the repository root
std::string python();                          // interpreter with torch + omegaconf
std::string fsdpshard_binary();
std::string mpiexec();                         // mpirun (with root/oversubscribe flags)

// The cached torch 2.x venv's interpreter (launch/torch2-venv.sh: torch 2.x, omegaconf 2.4,
// safetensors, huggingface_hub, numpy): $FSDPSHARD_TORCH2_PYTHON, else the venv's default
// path; "" when neither exists.
std::string torch2_python();
// True when a missing torch 2.x venv must fail a test rather than skip it: CI=true or
// FSDPSHARD_REQUIRE_TORCH2=1 (launch/test.sh sets it after creating the venv).
bool torch2_required();
// In a TEST body: binds `var` to the torch 2.x interpreter, or skips (fails when required).
#define FSDPSHARD_REQUIRE_TORCH2(var)                                                      \
  const std::string var = ::fsdpshard::test::torch2_python();                             \
  if (var.empty()) {                                                                      \
    if (::fsdpshard::test::torch2_required()) {                                           \
      FAIL() << "needs the torch 2.x venv (launch/torch2-venv.sh) and it is missing";      \
    }                                                                                     \
    GTEST_SKIP() << "needs the torch 2.x venv: run launch/torch2-venv.sh";                \
  }

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `argv` (no shell), capturing stdout and stderr.
CommandResult run(const std::vector<std::string>& argv);
// Runs tests/python/<script> with the torch interpreter and `args`.
CommandResult run_python(const std::string& script, const std::vector<std::string>& args);
// Runs tests/python/<script> with the torch 2.x interpreter `torch2` (see torch2_python()).
CommandResult run_python2(const std::string& torch2, const std::string& script,
                          const std::vector<std::string>& args);
// Runs the fsdpshard binary.
CommandResult run_fsdpshard(const std::vector<std::string>& args);
// Runs the fsdpshard binary on `ranks` ranks under mpirun (as root too, oversubscribed),
// with `extra_env` ("NAME=value") set for the job.
CommandResult run_fsdpshard_mpi(int ranks, const std::vector<std::string>& args,
                                const std::vector<std::string>& extra_env = {});

// A fresh empty folder, removed (recursively) when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& contents);
bool file_exists(const std::string& path);
std::vector<std::string> list_dir(const std::string& path);  // names, sorted

}  // namespace fsdpshard::test
