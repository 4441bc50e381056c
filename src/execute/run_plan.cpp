#include "execute/run_plan.h"

#include <cstdio>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "execute/test_hooks.h"
#include "fsdpshard/util/error.h"
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
  if (comm.all_ok(code == 0)) return 0;
  // Some rank failed. Metadata reads alike everywhere, so usually every rank failed the
  // same way; the lowest failing rank speaks for all, through rank 0, and its exit code
  // becomes every rank's, so mpirun exits with it and no rank has to abort.
  int speaker = 0;
  for (;; ++speaker) {  // ends: some rank failed
    std::string failed = code != 0 ? "1" : "0";
    comm.broadcast(failed, speaker);
    if (failed == "1") break;
  }
  std::string verdict = std::to_string(code) + " " + line;
  if (speaker != 0) verdict += " (on rank " + std::to_string(speaker) + ")";
  comm.broadcast(verdict, speaker);
  const std::size_t space = verdict.find(' ');
  if (comm.rank() == 0) std::fprintf(stderr, "%s\n", verdict.substr(space + 1).c_str());
  return std::stoi(verdict.substr(0, space));
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

using json = nlohmann::ordered_json;

// The counters of ExecuteStats under the names the --json summary gives them, in its order.
struct Counter {
  const char* name;
  uint64_t ExecuteStats::*field;
};
constexpr Counter kCounters[] = {
    {"bytes_read", &ExecuteStats::bytes_read},           {"bytes_sent", &ExecuteStats::bytes_sent},
    {"bytes_received", &ExecuteStats::bytes_received},   {"bytes_written", &ExecuteStats::bytes_written},
    {"records_read", &ExecuteStats::records_read},       {"records_written", &ExecuteStats::records_written},
    {"bytes_cast", &ExecuteStats::bytes_cast},           {"bytes_cast_on_device", &ExecuteStats::bytes_cast_on_device}};

// bytes_cast_on_device is null in a plan: where a cast runs is decided while bytes move.
json stats_json(const ExecuteStats& s, bool planned) {
  json j = json::object();
  for (const Counter& c : kCounters) j[c.name] = s.*c.field;
  if (planned) j["bytes_cast_on_device"] = nullptr;
  return j;
}

ExecuteStats stats_from_json(const json& j) {
  ExecuteStats s;
  for (const Counter& c : kCounters) s.*c.field = j.at(c.name).get<uint64_t>();
  return s;
}

// Every rank's stats, complete on rank 0 (the others learn them too): one small broadcast
// per rank, only for --json.
std::vector<ExecuteStats> stats_of_every_rank(Communicator& comm, const ExecuteStats& mine) {
  std::vector<ExecuteStats> all(comm.size());
  for (int r = 0; r < comm.size(); ++r) {
    std::string text = r == comm.rank() ? stats_json(mine, false).dump() : std::string();
    comm.broadcast(text, r);
    all[r] = stats_from_json(json::parse(text));
  }
  return all;
}

// The --json object (README.md, "Bytes moved"): what each rank moved, or would move.
std::string summary_json(const Plan& plan, const Communicator& comm, const std::vector<ExecuteStats>& per_rank,
                         bool dry_run, double seconds) {
  ExecuteStats total;
  json ranks = json::array();
  for (int r = 0; r < static_cast<int>(per_rank.size()); ++r) {
    const ExecuteStats& s = per_rank[r];
    for (const Counter& c : kCounters) total.*c.field += s.*c.field;
    json files = json::array();
    for (const auto& f : plan.files) {
      if (f.writer == r) files.push_back(plan.single_file ? plan.output : plan.output + "/" + f.name);
    }
    json entry = {{"rank", r}};
    entry.update(stats_json(s, dry_run));
    entry["files"] = std::move(files);
    ranks.push_back(std::move(entry));
  }
  const json summary = {{"output", plan.output},
                        {"backend", comm.backend()},
                        {"ranks", comm.size()},
                        {"dry_run", dry_run},
                        {"totals", stats_json(total, dry_run)},
                        {"per_rank", std::move(ranks)},
                        {"seconds", seconds}};
  return summary.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace

int run_planned(Communicator& comm, const TransferOptions& options, OutputKind output_kind,
                const std::function<PlannedJob()>& make_plan) {
  const auto start = std::chrono::steady_clock::now();
  PlannedJob job;
  const int planned = run_on_every_rank(comm, [&] {
    // Said before any work, where every rank agrees, rather than by the writer alone
    // at the end (which would have to abort the job). Rank 0 looks: it always sees the
    // output (it commits it), other ranks may not (--writers rank0).
    const bool looks = comm.rank() == 0;
    if (looks) check_output_path(options.output, output_kind, options.force);
    job = make_plan();
    assign_readers(job.plan, comm.size());
    std::vector<std::string> inputs = job.plan.inputs;  // the files planned from
    inputs.insert(inputs.end(), {options.input, options.shapes_from});
    inputs.insert(inputs.end(), options.edits.merge_files.begin(), options.edits.merge_files.end());
    if (looks) check_output_spares_inputs(job.plan.output, output_kind, inputs);
  });
  if (planned != 0) return planned;

  if (options.dry_run && options.json) {
    if (comm.rank() == 0) {
      std::vector<ExecuteStats> planned;
      for (int r = 0; r < comm.size(); ++r) planned.push_back(planned_stats(job.plan, r));
      std::printf("%s\n", summary_json(job.plan, comm, planned, true, seconds_since(start)).c_str());
    }
    return 0;
  }
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
  if (options.json) {
    const std::vector<ExecuteStats> per_rank = stats_of_every_rank(comm, stats);
    if (comm.rank() == 0) {
      std::printf("%s\n", summary_json(job.plan, comm, per_rank, false, seconds_since(start)).c_str());
      std::fflush(stdout);
    }
  }
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
