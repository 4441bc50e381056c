// The executor's accounting (ExecuteStats, what `--json` reports) and its cast hook:
// planned_stats is the plan's arithmetic, a run counts the same, and every cast goes
// through Communicator::cast, whichever backend runs (the nccl one casts on its GPU there).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "fsdpshard/plan/cast.h"
#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/execute/executor.h"
#include "fsdpshard/archive/zip_reader.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

// The local backend, with a count of what goes through the cast hook.
class CastCountingCommunicator final : public Communicator {
 public:
  int rank() const override { return local_->rank(); }
  int size() const override { return local_->size(); }
  std::string backend() const override { return local_->backend(); }
  void send(const void* data, std::size_t size, int dest, int tag) override { local_->send(data, size, dest, tag); }
  void recv(void* data, std::size_t size, int source, int tag) override { local_->recv(data, size, source, tag); }
  CastPlace cast(const void* src, DType from, void* dst, DType to, std::size_t count) override {
    ++calls;
    elements += count;
    return local_->cast(src, from, dst, to, count);
  }
  void barrier() override { local_->barrier(); }
  void broadcast(std::string& data, int root) override { local_->broadcast(data, root); }
  bool all_ok(bool ok) override { return local_->all_ok(ok); }
  unsigned long long sum(unsigned long long value) override { return local_->sum(value); }
  [[noreturn]] void abort(int exit_code) override {
    local_->abort(exit_code);
    std::_Exit(exit_code);  // not reached: the compiler cannot see that through the pointer
  }

  int calls = 0;
  uint64_t elements = 0;

 private:
  std::unique_ptr<Communicator> local_ = make_communicator("local");
};

void expect_same_stats(const ExecuteStats& run, const ExecuteStats& planned) {
  EXPECT_EQ(run.bytes_read, planned.bytes_read);
  EXPECT_EQ(run.bytes_sent, planned.bytes_sent);
  EXPECT_EQ(run.bytes_received, planned.bytes_received);
  EXPECT_EQ(run.bytes_written, planned.bytes_written);
  EXPECT_EQ(run.records_read, planned.records_read);
  EXPECT_EQ(run.records_written, planned.records_written);
  EXPECT_EQ(run.bytes_cast, planned.bytes_cast);
}

// One torch file of three records over one float32 input of `count` elements: kept as
// float32, cast to bfloat16, cast to float16.
Plan three_record_plan(const TempDir& dir, uint64_t count) {
  Plan plan;
  plan.inputs = {dir.file("in.bin")};
  plan.output = dir.file("out.th");
  PlannedFile file;
  file.name = "out.th";
  file.archive_root = "out";
  file.header = "not read by this test";
  for (DType to : {DType::Float32, DType::BFloat16, DType::Float16}) {
    PlannedRecord r;
    r.name = "data/" + std::to_string(file.records.size());
    r.source_dtype = DType::Float32;
    r.dtype = to;
    r.add_segment(0, 0, count);
    file.records.push_back(r);
  }
  plan.files.push_back(file);
  return plan;
}

TEST(ExecutorStats, CastsGoThroughTheCommunicatorAndCountAsPlanned) {
  TempDir dir;
  // 3 MiB of float32 with max_inflight 4 MiB (512 KiB chunks): several chunks per record.
  const uint64_t count = 3u << 18;
  std::vector<float> values(count);
  for (uint64_t i = 0; i < count; ++i) values[i] = static_cast<float>(i) * 1.000244140625f - 7.5f;
  write_file(dir.file("in.bin"), std::string(reinterpret_cast<const char*>(values.data()), count * 4));
  const Plan plan = three_record_plan(dir, count);

  CastCountingCommunicator comm;
  ExecuteOptions options;
  options.max_inflight = 4u << 20;
  const ExecuteStats stats = execute(plan, comm, options);

  EXPECT_GT(comm.calls, 2);                 // chunk by chunk
  EXPECT_EQ(comm.elements, 2 * count);      // both cast records, every element, once
  EXPECT_EQ(stats.bytes_cast, 2 * count * 4);
  EXPECT_EQ(stats.bytes_cast_on_device, 0u);  // the local backend casts on the CPU
  expect_same_stats(stats, planned_stats(plan, 0));
  EXPECT_EQ(stats.bytes_read, 3 * count * 4);
  EXPECT_EQ(stats.bytes_written, count * (4 + 2 + 2));
  EXPECT_EQ(stats.bytes_sent + stats.bytes_received, 0u);

  const ZipReader zip(plan.output);
  for (const PlannedRecord& r : plan.files[0].records) {
    std::string expected(r.bytes(), '\0');
    cast_elements(values.data(), DType::Float32, expected.data(), r.dtype, count);
    EXPECT_EQ(zip.read(zip.require(r.name)), expected) << r.name;
  }
}

TEST(ExecutorStats, PlannedStatsSplitSentAndReceivedByReaderAndWriter) {
  // Two files over three ranks: rank 0 writes a (records read by 0, 1, 2), rank 1
  // writes b (records read by 2 and 1); a record cast from float32 to float16 travels
  // in float16.
  Plan plan;
  plan.inputs = {"in"};
  plan.single_file = false;
  plan.output = "folder";
  auto record = [](int reader, uint64_t count, DType to) {
    PlannedRecord r;
    r.source_dtype = DType::Float32;
    r.dtype = to;
    r.add_segment(0, 0, count);
    r.reader = reader;
    return r;
  };
  PlannedFile a;
  a.writer = 0;
  a.records = {record(0, 10, DType::Float32), record(1, 20, DType::Float16), record(2, 30, DType::Float32)};
  PlannedFile b;
  b.writer = 1;
  b.records = {record(2, 40, DType::Float32), record(1, 50, DType::Float32)};
  plan.files = {a, b};

  const ExecuteStats r0 = planned_stats(plan, 0), r1 = planned_stats(plan, 1), r2 = planned_stats(plan, 2);
  EXPECT_EQ(r0.bytes_read, 40u);
  EXPECT_EQ(r1.bytes_read, (20u + 50u) * 4);
  EXPECT_EQ(r2.bytes_read, (30u + 40u) * 4);
  for (int r = 0; r < 3; ++r) EXPECT_EQ(planned_stats(plan, r).bytes_read, plan.read_bytes(r));
  EXPECT_EQ(r0.bytes_sent, 0u);
  EXPECT_EQ(r0.bytes_received, 20u * 2 + 30u * 4);
  EXPECT_EQ(r1.bytes_sent, 20u * 2);
  EXPECT_EQ(r1.bytes_received, 40u * 4);
  EXPECT_EQ(r2.bytes_sent, (30u + 40u) * 4);
  EXPECT_EQ(r2.bytes_received, 0u);
  EXPECT_EQ(r0.bytes_sent + r1.bytes_sent + r2.bytes_sent, r0.bytes_received + r1.bytes_received + r2.bytes_received);
  EXPECT_EQ(r0.bytes_written, a.bytes());
  EXPECT_EQ(r1.bytes_written, b.bytes());
  EXPECT_EQ(r2.bytes_written, 0u);
  EXPECT_EQ(r0.records_written, 3u);
  EXPECT_EQ(r1.records_written, 2u);
  EXPECT_EQ(r2.records_written, 0u);
  EXPECT_EQ(r0.records_read, 1u);
  EXPECT_EQ(r1.records_read, 2u);
  EXPECT_EQ(r2.records_read, 2u);
  EXPECT_EQ(r1.bytes_cast, 20u * 4);
  EXPECT_EQ(r0.bytes_cast + r2.bytes_cast, 0u);
}

}  // namespace
}  // namespace fsdpshard::test
