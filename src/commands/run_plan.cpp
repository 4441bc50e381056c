#include "commands/run_plan.h"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>

#include "commands/test_hooks.h"
#include "fsdpshard/error.h"
#include "util/format.h"
#include "util/progress.h"

namespace fsdpshard {

namespace {

// The exit code of the exception in flight and the line that reports it.
int describe_current_exception(std::string& line) {
  try {
    throw;
  } catch (const InputError& e) {
    line = std::string("fsdpshard: error: ") + e.what();
    return 2;
  } catch (const RuntimeFailure& e) {
    line = std::string("fsdpshard: error: ") + e.what();
    return 1;
  } catch (const std::bad_alloc&) {
    line = "fsdpshard: error: out of memory";
    return 1;
  } catch (const std::exception& e) {
    line = std::string("fsdpshard: internal error: ") + e.what();
    return 1;
  }
}

}  // namespace

int report_current_exception() {
  std::string line;
  const int code = describe_current_exception(line);
  std::fprintf(stderr, "%s\n", line.c_str());
  return code;
}

int run_on_every_rank(Communicator& comm, const std::function<void()>& step) {
  int code = 0;
  std::string line;
  try {
    step();
  } catch (...) {
    code = describe_current_exception(line);
  }
  // Metadata reads alike everywhere, so usually every rank fails the same way: rank 0
  // speaks for all; the other ranks speak only for a failure rank 0 did not see.
  std::string rank0_failed = code != 0 ? "1" : "0";
  comm.broadcast(rank0_failed, 0);
  if (comm.all_ok(code == 0)) return 0;
  if (code != 0 && (comm.rank() == 0 || rank0_failed == "0")) {
    if (comm.rank() != 0) line += " (on rank " + std::to_string(comm.rank()) + ")";
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  return code != 0 ? code : 1;
}

namespace {

std::string rank_table(const Plan& plan, int ranks) {
  std::string text = "ranks (reading):\n";
  for (int r = 0; r < ranks; ++r) {
    std::size_t records = 0;
    for (const auto& f : plan.files) {
      for (const auto& rec : f.records) records += rec.reader == r ? 1 : 0;
    }
    char line[160];
    std::snprintf(line, sizeof line, "  rank %-4d %6zu records %12s\n", r, records,
                  human_bytes(plan.read_bytes(r)).c_str());
    text += line;
  }
  text += "output:\n";
  for (const auto& f : plan.files) {
    char line[512];
    std::snprintf(line, sizeof line, "  %s  %zu records %s  (written by rank %d)\n",
                  plan.single_file ? plan.output.c_str() : (plan.output + "/" + f.name).c_str(),
                  f.records.size(), human_bytes(f.bytes()).c_str(), f.writer);
    text += line;
  }
  return text;
}

}  // namespace

int run_planned(Communicator& comm, const TransferOptions& options,
                const std::function<PlannedJob()>& make_plan) {
  const auto start = std::chrono::steady_clock::now();
  PlannedJob job;
  const int planned = run_on_every_rank(comm, [&] {
    job = make_plan();
    assign_readers(job.plan, comm.size());
    // Said at planning time, where every rank agrees, rather than by the writer alone
    // mid-transfer (which would have to abort the job).
    std::error_code ec;
    if (!options.force && std::filesystem::exists(job.plan.output, ec)) {
      throw InputError(job.plan.output + " exists (use --force to overwrite)");
    }
  });
  if (planned != 0) return planned;

  if (options.dry_run) {
    if (comm.rank() == 0) {
      std::printf("%s%s", rank_table(job.plan, comm.size()).c_str(), job.dry_run_text.c_str());
      std::printf("dry run: nothing was written\n");
    }
    return 0;
  }

  pause_after_plan_for_tests(comm.rank());  // no-op unless a test asks (test_hooks.h)
  ProgressBar bar(options.progress, options.quiet || comm.rank() != 0);
  ExecuteOptions exec;
  exec.max_inflight = options.max_inflight;
  exec.overwrite = options.force;
  exec.on_progress = [&bar](uint64_t done, uint64_t total) { bar.update(done, total); };
  ExecuteStats stats;
  try {
    stats = execute(job.plan, comm, exec);
  } catch (...) {
    bar.finish();
    const int failure = report_current_exception();
    if (comm.size() > 1) comm.abort(failure);
    return failure;
  }
  bar.finish();
  const uint64_t read = comm.sum(stats.bytes_read);
  const uint64_t written = comm.sum(stats.bytes_written);
  if (comm.rank() == 0 && !options.quiet) {
    std::fprintf(stderr, "%s: read %s, wrote %s to %s in %s (%d rank%s, %s)\n", job.what.c_str(),
                 human_bytes(read).c_str(), human_bytes(written).c_str(), job.plan.output.c_str(),
                 human_seconds(seconds_since(start)).c_str(), comm.size(), comm.size() == 1 ? "" : "s",
                 comm.backend().c_str());
  }
  return 0;
}

}  // namespace fsdpshard
