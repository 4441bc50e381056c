// `fsdpshard verify A B`: are two checkpoints (or safetensors files, or shard sets) the
// same model? Names, dtypes, shapes, values (bitwise, or within --rtol/--atol), xp.cfg,
// and with --crc every zip record's CRC-32, which torch.load never checks.
//
// Every rank opens both sides (metadata only) and derives the same job list; each rank
// compares a byte-balanced share of the tensors (and CRC records); the ranks' findings
// are then shared with one broadcast per rank and rank 0 reports. No rank writes
// anything, so a failure on one rank is reported, not aborted on.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "formats/cfg_output.h"
#include "execute/run_plan.h"
#include "verify/verify_compare.h"
#include "verify/verify_side.h"
#include "fsdpshard/commands/commands.h"
#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/util/error.h"
#include "util/format.h"
#include "util/progress.h"

namespace fsdpshard {
namespace {

using json = nlohmann::ordered_json;

// Per buffer; a rank holds four (two raw, two float64) at most.
constexpr uint64_t kChunkBytes = 8u << 20;

std::string shape_text(const std::vector<int64_t>& sizes) {
  std::string text = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) text += (i ? ", " : "") + std::to_string(sizes[i]);
  return text + "]";
}

std::string hex32(uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

// One unit of work for some rank: compare a tensor's values, or check a record's CRC.
struct Job {
  enum Kind { Values, Crc } kind = Values;
  const VerifyTensor* a = nullptr;  // Values
  const VerifyTensor* b = nullptr;
  char side = 'A';                  // Crc: which input
  const ZipReader* archive = nullptr;
  const ZipRecord* record = nullptr;
  uint64_t bytes = 0;
  int rank = 0;
};

// Largest first, each to the least loaded rank, ties to the lower rank: deterministic,
// so every rank computes the same assignment without talking.
void assign_ranks(std::vector<Job>& jobs, int ranks) {
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return jobs[x].bytes > jobs[y].bytes; });
  std::vector<uint64_t> load(static_cast<std::size_t>(ranks), 0);
  for (std::size_t i : order) {
    const auto least = std::min_element(load.begin(), load.end()) - load.begin();
    jobs[i].rank = static_cast<int>(least);
    load[static_cast<std::size_t>(least)] += jobs[i].bytes;
  }
}

// This rank's share of the work, as JSON text for the other ranks.
std::string run_jobs(const std::vector<Job>& jobs, int me, const Tolerance& tolerance) {
  json out;
  json results = json::array();
  uint64_t bytes = 0;
  try {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const Job& job = jobs[i];
      if (job.rank != me) continue;
      if (job.kind == Job::Values) {
        const ValueComparison c = compare_values(job.a->location, job.b->location, tolerance, kChunkBytes);
        bytes += c.bytes_read;
        if (c.mismatched > 0) {
          results.push_back({{"job", i}, {"mismatched", c.mismatched}, {"first_index", c.first_index},
                             {"max_abs_diff", c.max_abs_diff}});
        }
      } else {
        const uint32_t actual = job.archive->compute_crc(*job.record);
        bytes += job.record->size;
        if (actual != job.record->crc32) results.push_back({{"job", i}, {"crc", actual}});
      }
    }
  } catch (const InputError& e) {
    out["error"] = e.what();
    out["code"] = 2;
  } catch (const RuntimeFailure& e) {
    out["error"] = e.what();
    out["code"] = 1;
  } catch (const std::bad_alloc&) {
    out["error"] = "out of memory";
    out["code"] = 1;
  } catch (const std::exception& e) {
    out["error"] = std::string("internal error: ") + e.what();
    out["code"] = 1;
  }
  out["results"] = results;
  out["bytes"] = bytes;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

json side_json(const VerifySide& in) {
  uint64_t bytes = 0;
  for (const auto& t : in.tensors()) bytes += t.nbytes();
  return {{"path", in.path()}, {"kind", in.kind()}, {"source", in.source()},
          {"tensors", in.tensors().size()}, {"bytes", bytes}, {"has_cfg", in.cfg_yaml().has_value()}};
}

struct Report {
  json doc;
  int differences = 0;
  int crc_mismatches = 0;
  std::string error;
  int error_code = 0;
};

void print_human(const Report& r) {
  const json& d = r.doc;
  for (const char* side : {"a", "b"}) {
    const json& s = d[side];
    std::string source = s["source"].get<std::string>();
    std::printf("%s: %s (%s%s): %zu tensors, %s\n", side[0] == 'a' ? "A" : "B", s["path"].get<std::string>().c_str(),
                s["kind"].get<std::string>().c_str(), source.empty() ? "" : (", " + source).c_str(),
                s["tensors"].get<std::size_t>(), human_bytes(s["bytes"].get<uint64_t>()).c_str());
  }
  for (const auto& name : d["only_in_a"]) std::printf("only in A: %s\n", name.get<std::string>().c_str());
  for (const auto& name : d["only_in_b"]) std::printf("only in B: %s\n", name.get<std::string>().c_str());
  for (const auto& diff : d["differences"]) {
    const std::string kind = diff["kind"].get<std::string>();
    const std::string name = diff["name"].get<std::string>();
    if (kind == "values") {
      std::string line = "values differ: " + name + ": " + std::to_string(diff["mismatched"].get<uint64_t>()) +
                         " of " + std::to_string(diff["numel"].get<uint64_t>()) + " elements, first at flat index " +
                         std::to_string(diff["first_index"].get<uint64_t>());
      if (diff.contains("max_abs_diff")) {
        line += diff["max_abs_diff"].is_null() ? ", NaN against a number"
                                               : ", max |a-b| " + std::to_string(diff["max_abs_diff"].get<double>());
      }
      std::printf("%s\n", line.c_str());
    } else {
      std::printf("%s differs: %s (%s vs %s)\n", kind.c_str(), name.c_str(), diff["a"].get<std::string>().c_str(),
                  diff["b"].get<std::string>().c_str());
    }
  }
  const json& cfg = d["cfg"];
  if (cfg["compared"].get<bool>() && !cfg["equal"].get<bool>()) {
    std::printf("xp.cfg differs (- A, + B):\n%s", cfg["diff"].get<std::string>().c_str());
  }
  if (d["crc"]["checked"].get<bool>()) {
    for (const auto& m : d["crc"]["mismatches"]) {
      std::printf("CRC-32 mismatch: %s: record '%s': the zip directory says %s, the bytes give %s\n",
                  m["file"].get<std::string>().c_str(), m["record"].get<std::string>().c_str(),
                  m["expected"].get<std::string>().c_str(), m["actual"].get<std::string>().c_str());
    }
    if (d["crc"]["mismatches"].empty()) {
      std::printf("CRC-32: %zu records checked, all match\n", d["crc"]["records"].get<std::size_t>());
    }
  }
  if (!r.error.empty()) return;  // the error line says it
  if (d["equal"].get<bool>()) {
    std::printf("verify: equal: %zu tensors, %s compared%s\n", d["tensors_compared"].get<std::size_t>(),
                human_bytes(d["bytes_compared"].get<uint64_t>()).c_str(),
                d["tolerance"].is_null() ? " bitwise" : " within tolerance");
  } else {
    std::printf("verify: different: %d difference%s\n", r.differences, r.differences == 1 ? "" : "s");
  }
}

}  // namespace

int run_verify(const VerifyOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const Tolerance tolerance = tolerance_from(options.rtol, options.atol);  // bad values: exit 2 up front
  auto comm = make_communicator(options.backend);
  std::unique_ptr<VerifySide> a, b;
  int code = run_on_every_rank(*comm, [&] {
    a = std::make_unique<VerifySide>(options.a, options.from);
    b = std::make_unique<VerifySide>(options.b, options.from);
  });
  if (code != 0) return code;

  // The same on every rank: metadata differences, then the jobs.
  Report report;
  json& d = report.doc;
  d["a"] = side_json(*a);
  d["b"] = side_json(*b);
  d["only_in_a"] = json::array();
  d["only_in_b"] = json::array();
  json differences = json::array();
  std::vector<Job> jobs;
  uint64_t compared_tensors = 0;
  for (const VerifyTensor& ta : a->tensors()) {
    const VerifyTensor* tb = b->find(ta.name);
    if (!tb) {
      d["only_in_a"].push_back(ta.name);
      continue;
    }
    const DType da = ta.location.dtype, db = tb->location.dtype;
    if (ta.location.sizes != tb->location.sizes) {
      differences.push_back({{"name", ta.name}, {"kind", "shape"}, {"a", shape_text(ta.location.sizes)},
                             {"b", shape_text(tb->location.sizes)}});
      continue;
    }
    if (da != db && !tolerance.enabled) {
      differences.push_back({{"name", ta.name}, {"kind", "dtype"}, {"a", std::string(torch_name(da))},
                             {"b", std::string(torch_name(db))}});
      continue;
    }
    ++compared_tensors;
    Job job;
    job.kind = Job::Values;
    job.a = &ta;
    job.b = tb;
    job.bytes = ta.nbytes() + tb->nbytes();
    jobs.push_back(job);
  }
  for (const VerifyTensor& tb : b->tensors()) {
    if (!a->find(tb.name)) d["only_in_b"].push_back(tb.name);
  }
  uint64_t crc_records = 0;
  if (options.crc) {
    std::set<std::string> seen;  // a file given twice (A = B, or shared) is checked once
    for (const auto& [side, input] : {std::pair<char, const VerifySide*>{'A', a.get()}, {'B', b.get()}}) {
      for (const ZipReader* zip : input->archives()) {
        std::error_code ec;
        const auto canonical = std::filesystem::weakly_canonical(zip->path(), ec);
        if (!seen.insert(ec ? zip->path() : canonical.string()).second) continue;
        for (const ZipRecord& record : zip->records()) {
          Job job;
          job.kind = Job::Crc;
          job.side = side;
          job.archive = zip;
          job.record = &record;
          job.bytes = record.size;
          jobs.push_back(job);
          ++crc_records;
        }
      }
    }
  }
  assign_ranks(jobs, comm->size());

  // Work, then everyone hears everyone (one broadcast per rank: the findings are small).
  std::vector<json> findings;
  const std::string mine = run_jobs(jobs, comm->rank(), tolerance);
  for (int r = 0; r < comm->size(); ++r) {
    std::string text = r == comm->rank() ? mine : std::string();
    comm->broadcast(text, r);
    findings.push_back(json::parse(text));
  }

  // Combine, in job order so the report does not depend on the number of ranks.
  std::map<std::size_t, const json*> by_job;
  uint64_t bytes_compared = 0;
  for (const json& f : findings) {
    for (const json& item : f["results"]) by_job[item["job"].get<std::size_t>()] = &item;
    bytes_compared += f["bytes"].get<uint64_t>();
    if (f.contains("error") && report.error.empty()) {
      report.error = f["error"].get<std::string>();
      report.error_code = f["code"].get<int>();
    }
  }
  json crc_mismatches = json::array();
  for (const auto& [index, item] : by_job) {
    const Job& job = jobs[index];
    if (job.kind == Job::Values) {
      json diff = {{"name", job.a->name}, {"kind", "values"}, {"numel", job.a->location.numel()},
                   {"mismatched", (*item)["mismatched"]}, {"first_index", (*item)["first_index"]}};
      if (tolerance.enabled || job.a->location.dtype != job.b->location.dtype) {
        diff["max_abs_diff"] = (*item)["max_abs_diff"];
      }
      differences.push_back(diff);
    } else {
      crc_mismatches.push_back({{"side", std::string(1, job.side)}, {"file", job.archive->path()},
                                {"record", job.record->name}, {"expected", hex32(job.record->crc32)},
                                {"actual", hex32((*item)["crc"].get<uint32_t>())}});
    }
  }
  d["differences"] = differences;

  json cfg = {{"compared", false}, {"equal", true}, {"diff", ""}};
  if (!options.ignore_cfg && (a->cfg_yaml() || b->cfg_yaml())) {
    cfg["compared"] = true;
    const std::string ya = a->cfg_yaml().value_or(""), yb = b->cfg_yaml().value_or("");
    if (!a->cfg_yaml() || !b->cfg_yaml()) {
      cfg["equal"] = false;
      cfg["diff"] = std::string(a->cfg_yaml() ? "- (xp.cfg only in A)\n" : "+ (xp.cfg only in B)\n");
    } else if (ya != yb) {
      cfg["equal"] = false;
      cfg["diff"] = yaml_diff(ya, yb);
    }
  }
  d["cfg"] = cfg;
  d["crc"] = {{"checked", options.crc}, {"records", crc_records}, {"mismatches", crc_mismatches}};
  if (tolerance.enabled) {
    d["tolerance"] = {{"rtol", tolerance.rtol}, {"atol", tolerance.atol}};
  } else {
    d["tolerance"] = nullptr;
  }
  report.differences = static_cast<int>(d["only_in_a"].size() + d["only_in_b"].size() + differences.size()) +
                       (cfg["equal"].get<bool>() ? 0 : 1);
  report.crc_mismatches = static_cast<int>(crc_mismatches.size());

  // Exit: an error (2 bad input — a corrupt record counts — or 1), else 1 when different.
  if (!report.error.empty()) {
    code = report.error_code;
  } else if (report.crc_mismatches > 0) {
    code = 2;
    const json& m = crc_mismatches.front();
    report.error = m["file"].get<std::string>() + ": record '" + m["record"].get<std::string>() +
                   "' fails its CRC-32 check (zip directory " + m["expected"].get<std::string>() + ", data " +
                   m["actual"].get<std::string>() + ")" +
                   (report.crc_mismatches > 1
                        ? " and " + std::to_string(report.crc_mismatches - 1) + " more record(s) too"
                        : std::string()) +
                   ": the file is corrupt";
  } else {
    code = report.differences > 0 ? 1 : 0;
  }
  d["tensors_compared"] = compared_tensors;
  d["bytes_compared"] = bytes_compared;
  d["equal"] = code == 0;
  d["error"] = report.error.empty() ? json(nullptr) : json(report.error);
  d["ranks"] = comm->size();
  d["seconds"] = seconds_since(start);
  if (comm->rank() == 0) {
    if (options.json) {
      std::printf("%s\n", d.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    } else {
      print_human(report);
    }
    std::fflush(stdout);
    if (!report.error.empty()) std::fprintf(stderr, "fsdpshard: error: %s\n", report.error.c_str());
  }
  return code;
}

}  // namespace fsdpshard
