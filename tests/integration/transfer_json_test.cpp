// `gather --json` / `reshard --json`: the bytes each rank read, sent, received and wrote,
// held to the plan (`--dry-run --json` prints Plan::read_bytes(rank) and the plan's
// writers), to each other (sent = received over the job) and to the outputs as real
// torch.load sees them (tensor_bytes.py), one process and under mpirun -np 1, 2, 3.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

using json = nlohmann::json;

const char* const kCounters[] = {"bytes_read",  "bytes_sent",      "bytes_received", "bytes_written",
                                 "records_read", "records_written", "bytes_cast"};

// ranks 0: one plain process (the local backend); else mpirun -np ranks with the mpi
// backend (auto would take nccl on a machine with GPUs).
CommandResult run_on(int ranks, std::vector<std::string> args) {
  if (ranks == 0) return run_fsdpshard(args);
  args.insert(args.end(), {"--backend", "mpi"});
  return run_fsdpshard_mpi(ranks, args);
}

// Runs `args` with --json, checks the summary's shape, returns it.
json summary_of(int ranks, std::vector<std::string> args) {
  args.push_back("--json");
  const CommandResult r = run_on(ranks, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json j;
  try {
    j = json::parse(r.out);  // one object and nothing else on stdout
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout is not one JSON object: " << e.what() << "\n" << r.out;
    return json::object();
  }
  EXPECT_EQ(j.at("ranks"), ranks == 0 ? 1 : ranks);
  EXPECT_EQ(j.at("backend"), ranks == 0 ? "local" : "mpi");
  EXPECT_EQ(j.at("per_rank").size(), j.at("ranks").get<std::size_t>());
  EXPECT_TRUE(j.at("seconds").is_number());
  // The totals are the sums of the ranks.
  for (const char* key : kCounters) {
    uint64_t sum = 0;
    for (const json& rank : j.at("per_rank")) sum += rank.at(key).get<uint64_t>();
    EXPECT_EQ(j.at("totals").at(key), sum) << key;
  }
  return j;
}

// {file: tensor bytes} of the files, by torch.load.
json tensor_bytes(const std::vector<std::string>& files) {
  if (files.empty()) return json::object();
  const CommandResult r = run_python("tensor_bytes.py", files);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

// What every run must satisfy: the same figures as its dry run (the plan), sent =
// received, and each rank's written bytes = the tensor bytes of the files it wrote.
void expect_accounting(int ranks, const std::vector<std::string>& args) {
  std::vector<std::string> dry = args;
  dry.push_back("--dry-run");
  const json planned = summary_of(ranks, dry);
  const json run = summary_of(ranks, args);
  if (::testing::Test::HasFailure()) return;
  EXPECT_TRUE(planned.at("dry_run").get<bool>());
  EXPECT_FALSE(run.at("dry_run").get<bool>());
  EXPECT_EQ(run.at("output"), planned.at("output"));
  for (std::size_t r = 0; r < run.at("per_rank").size(); ++r) {
    const json& got = run.at("per_rank")[r];
    const json& want = planned.at("per_rank")[r];
    EXPECT_EQ(got.at("rank"), r);
    for (const char* key : kCounters) EXPECT_EQ(got.at(key), want.at(key)) << "rank " << r << " " << key;
    EXPECT_EQ(got.at("files"), want.at("files")) << "rank " << r;
    EXPECT_TRUE(want.at("bytes_cast_on_device").is_null());
    EXPECT_EQ(got.at("bytes_cast_on_device"), 0);  // local and mpi cast on the CPU
    const json sizes = tensor_bytes(got.at("files").get<std::vector<std::string>>());
    uint64_t on_disk = 0;
    for (const auto& item : sizes.items()) on_disk += item.value().get<uint64_t>();
    EXPECT_EQ(got.at("bytes_written"), on_disk) << "rank " << r;
  }
  const json& totals = run.at("totals");
  EXPECT_EQ(totals.at("bytes_sent"), totals.at("bytes_received"));
  EXPECT_GT(totals.at("bytes_read").get<uint64_t>(), 0u);
  if (run.at("ranks") == 1) EXPECT_EQ(totals.at("bytes_sent"), 0);
}

TEST(TransferJson, GatherCountsAsPlannedOnOneTwoAndThreeRanks) {
  for (int ranks : {0, 1, 2, 3}) {
    SCOPED_TRACE("ranks " + std::to_string(ranks));
    TempDir dir;
    expect_accounting(ranks, {"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("out.th"), "-q"});
  }
}

TEST(TransferJson, GatherWithACastCountsSourceBytesAsCast) {
  TempDir dir;
  // fsdp_best_state is float16: to float32 every byte read is cast and written twice over.
  const std::vector<std::string> args = {"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("f32.th"),
                                         "--dtype", "float32", "-q"};
  expect_accounting(2, args);
  const json run = summary_of(2, {"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("again.th"), "--dtype",
                                  "float32", "-q"});
  const json& totals = run.at("totals");
  EXPECT_EQ(totals.at("bytes_cast"), totals.at("bytes_read"));
  EXPECT_EQ(totals.at("bytes_written").get<uint64_t>(), 2 * totals.at("bytes_read").get<uint64_t>());
  EXPECT_EQ(totals.at("bytes_cast_on_device"), 0);
}

TEST(TransferJson, ReshardSpreadsWritersOrFunnelsThemToRankZero) {
  for (int ranks : {1, 2, 3}) {
    SCOPED_TRACE("ranks " + std::to_string(ranks));
    TempDir dir;
    expect_accounting(ranks, {"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("all"), "--shards", "3", "-q"});
    expect_accounting(ranks, {"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("zero"), "--shards", "3",
                              "--format", "safetensors", "--writers", "rank0", "-q"});
  }
  // --writers rank0: rank 0 writes every byte; the others only read and send.
  TempDir dir;
  const json run = summary_of(3, {"reshard", fixture("fsdp/checkpoint.th"), "-o", dir.file("zero"), "--shards", "3",
                                  "--writers", "rank0", "-q"});
  const json& ranks = run.at("per_rank");
  const uint64_t total = run.at("totals").at("bytes_written");
  EXPECT_EQ(ranks[0].at("bytes_written"), total);
  EXPECT_EQ(ranks[0].at("bytes_sent"), 0);
  EXPECT_EQ(ranks[0].at("bytes_received").get<uint64_t>(), total - ranks[0].at("bytes_read").get<uint64_t>());
  for (int r = 1; r < 3; ++r) {
    EXPECT_EQ(ranks[r].at("bytes_written"), 0) << r;
    EXPECT_EQ(ranks[r].at("files"), json::array()) << r;
    EXPECT_EQ(ranks[r].at("bytes_sent"), ranks[r].at("bytes_read")) << r;  // no cast: read = sent
    EXPECT_GT(ranks[r].at("bytes_read").get<uint64_t>(), 0u) << r;
  }
}

TEST(TransferJson, FsdpWorldReshardCountsAsPlanned) {
  // Rank files re-laid out for 3 ranks: records assembled from both input rank files,
  // zero padding included (counted as read, as the plan counts it).
  for (int ranks : {0, 2}) {
    SCOPED_TRACE("ranks " + std::to_string(ranks));
    TempDir dir;
    expect_accounting(ranks, {"reshard", "--world", "3", fixture("fsdp"), "-o", dir.file("w3"), "-q"});
  }
}

TEST(TransferJson, HumanOutputStaysWithoutJson) {
  TempDir dir;
  const CommandResult plain = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("a.th")});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "");
  EXPECT_NE(plain.err.find("gathered "), std::string::npos) << plain.err;
  // --json adds stdout only: the summary line stays on stderr.
  const CommandResult with_json =
      run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("b.th"), "--json"});
  ASSERT_EQ(with_json.exit_code, 0) << with_json.err;
  EXPECT_NE(with_json.err.find("gathered "), std::string::npos) << with_json.err;
  EXPECT_EQ(json::parse(with_json.out).at("output"), dir.file("b.th"));
  // The dry run's table is unchanged without --json, and replaced by the object with it.
  const CommandResult table = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("c.th"),
                                             "--dry-run"});
  EXPECT_NE(table.out.find("ranks (reading):"), std::string::npos) << table.out;
  EXPECT_FALSE(file_exists(dir.file("c.th")));
  const CommandResult dry_json = run_fsdpshard({"gather", fixture("fsdp/checkpoint.th"), "-o", dir.file("c.th"),
                                                "--dry-run", "--json"});
  EXPECT_TRUE(json::parse(dry_json.out).at("dry_run").get<bool>());
  EXPECT_FALSE(file_exists(dir.file("c.th")));
}

}  // namespace
}  // namespace fsdpshard::test
