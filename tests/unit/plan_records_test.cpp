// The plan's records and who reads them (plan/plan.cpp): segments, the unchanged-copy
// test the kernel copy and the kept CRC depend on, and assign_readers' balance, which
// every rank computes alone and so must be the same everywhere.
#include <gtest/gtest.h>

#include "fsdpshard/plan/plan.h"

namespace fsdpshard {
namespace {

PlannedRecord record(const std::string& name, uint64_t elements, DType from = DType::Float32,
                     DType to = DType::Float32) {
  PlannedRecord r;
  r.name = name;
  r.source_dtype = from;
  r.dtype = to;
  r.set_source(0, 0, elements);
  return r;
}

// A plan of one file per entry of `files`, each record of the given element counts (float32).
Plan plan_of(const std::vector<std::vector<uint64_t>>& files) {
  Plan plan;
  plan.inputs = {"in.th"};
  for (std::size_t f = 0; f < files.size(); ++f) {
    PlannedFile file;
    file.name = "file" + std::to_string(f);
    for (std::size_t k = 0; k < files[f].size(); ++k) {
      file.records.push_back(record("data/" + std::to_string(k), files[f][k]));
    }
    plan.files.push_back(file);
  }
  return plan;
}

std::vector<int> readers(const Plan& plan) {
  std::vector<int> out;
  for (const auto& f : plan.files) {
    for (const auto& r : f.records) out.push_back(r.reader);
  }
  return out;
}

TEST(PlanRecords, SegmentsAddUpAndEmptyOnesAreDropped) {
  PlannedRecord r = record("data/0", 4);
  ASSERT_EQ(r.segments.size(), 1u);
  r.add_segment(1, 100, 0);  // nothing to read: no segment
  EXPECT_EQ(r.segments.size(), 1u);
  r.add_segment(1, 100, 3);
  r.add_zeros(2);
  EXPECT_EQ(r.count, 9u);
  EXPECT_EQ(r.segments.back().input, SourceSegment::kZeros);
  EXPECT_EQ(r.source_bytes(), 36u);
  r.set_source(2, 8, 5);  // replaces everything
  ASSERT_EQ(r.segments.size(), 1u);
  EXPECT_EQ(r.segments[0].input, 2u);
  EXPECT_EQ(r.segments[0].offset, 8u);
  EXPECT_EQ(r.count, 5u);
}

TEST(PlanRecords, OnlyOneUncastRunOfOneFileCopiesUnchanged) {
  EXPECT_TRUE(record("a", 4).copies_unchanged());
  EXPECT_FALSE(record("cast", 4, DType::Float32, DType::BFloat16).copies_unchanged());
  PlannedRecord pieces = record("pieces", 4);
  pieces.add_segment(1, 0, 4);  // reassembled from two rank files
  EXPECT_FALSE(pieces.copies_unchanged());
  PlannedRecord zeros;
  zeros.add_zeros(8);
  EXPECT_FALSE(zeros.copies_unchanged());
  // A cast changes the written size, not the read size.
  const PlannedRecord half = record("half", 10, DType::Float32, DType::Float16);
  EXPECT_EQ(half.source_bytes(), 40u);
  EXPECT_EQ(half.bytes(), 20u);
}

TEST(AssignReaders, LargestFirstToTheLeastLoadedRankTiesToTheLowerRank) {
  // Sizes 10, 40, 30, 20 elements: 40 -> r0, 30 -> r1, 20 -> r1 (30 < 40), 10 -> r0 (40 < 50).
  Plan plan = plan_of({{10, 40}, {30, 20}});
  assign_readers(plan, 2);
  EXPECT_EQ(readers(plan), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(plan.read_bytes(0), 200u);
  EXPECT_EQ(plan.read_bytes(1), 200u);
  // Equal sizes: in plan order, each to the lowest rank of the least loaded.
  Plan even = plan_of({{5, 5, 5}, {5, 5}});
  assign_readers(even, 3);
  EXPECT_EQ(readers(even), (std::vector<int>{0, 1, 2, 0, 1}));
}

TEST(AssignReaders, EveryRankComputesTheSameAnswer) {
  const std::vector<std::vector<uint64_t>> sizes = {{7, 3, 7, 0, 9}, {1, 9, 9}, {}, {4, 4, 7}};
  Plan first = plan_of(sizes);
  assign_readers(first, 4);
  for (int attempt = 0; attempt < 5; ++attempt) {
    Plan again = plan_of(sizes);
    assign_readers(again, 4);
    EXPECT_EQ(readers(again), readers(first));
  }
  // Every byte is read by exactly one rank.
  uint64_t total = 0;
  for (int r = 0; r < 4; ++r) total += first.read_bytes(r);
  EXPECT_EQ(total, first.total_bytes());
}

TEST(AssignReaders, BalancesBytesReadNotBytesWritten) {
  // A float32 record cast to float16 reads 4 bytes an element: it weighs as float32.
  Plan plan;
  PlannedFile file;
  file.records = {record("a", 10, DType::Float32, DType::Float16), record("b", 15, DType::Float16, DType::Float16),
                  record("c", 5, DType::Float32, DType::Float32)};
  plan.files.push_back(file);
  assign_readers(plan, 2);
  // Read sizes 40, 30, 20: a -> r0, b -> r1, c -> r1.
  EXPECT_EQ(readers(plan), (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(plan.read_bytes(0), 40u);
  EXPECT_EQ(plan.read_bytes(1), 50u);
  EXPECT_EQ(plan.total_bytes(), 20u + 30u + 20u);
}

TEST(AssignReaders, OneRankReadsEverything) {
  Plan plan = plan_of({{3, 1}, {2}});
  assign_readers(plan, 1);
  EXPECT_EQ(readers(plan), (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(plan.read_bytes(0), 24u);
  // More ranks than records: the rest read nothing.
  assign_readers(plan, 8);
  EXPECT_EQ(readers(plan), (std::vector<int>{0, 2, 1}));
  EXPECT_EQ(plan.read_bytes(7), 0u);
}

}  // namespace
}  // namespace fsdpshard
