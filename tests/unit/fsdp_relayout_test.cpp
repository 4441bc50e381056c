// Relayout arithmetic: the runs of old pieces behind a new piece, and a new shard's runs.
#include <gtest/gtest.h>

#include "fsdpshard/plan/fsdp_relayout.h"

namespace fsdpshard {
namespace {

// One unit of three parameters (10, 3, 7 elements), alignment 4: starts 0, 12, 16; 23
// elements, padded to 24 for world 2 and 3, to 24 for 4 too.
FlatUnit unit_for(int world) {
  return fsdp_layout({"a", "b", "c"}, {10, 3, 7}, FsdpUnitRules({}), world, 4)[0];
}

TEST(FsdpRelayout, OldRunsTileTheWantedRange) {
  const FlatUnit old2 = unit_for(2);  // shards of 12: rank 0 = a[0,10) pad, rank 1 = b c pad
  ASSERT_EQ(old2.shard_numel, 12u);
  const auto runs = old_runs(old2, 0, 2, 8);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].rank, 0);
  EXPECT_EQ(runs[0].offset, 2u);
  EXPECT_EQ(runs[0].count, 8u);

  const FlatUnit old3 = unit_for(3);  // shards of 8: a = r0[0,8) + r1[0,2); c = r2 [0,7)
  const auto a = old_runs(old3, 0, 5, 5);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].rank, 0);
  EXPECT_EQ(a[0].offset, 5u);
  EXPECT_EQ(a[0].count, 3u);
  EXPECT_EQ(a[1].rank, 1);
  EXPECT_EQ(a[1].offset, 0u);
  EXPECT_EQ(a[1].count, 2u);
  EXPECT_TRUE(old_runs(old3, 1, 0, 0).empty());
  EXPECT_THROW(old_runs(old3, 1, 2, 5), std::exception);  // past the parameter's end
}

TEST(FsdpRelayout, ShardRunsCoverTheShardWithPadding) {
  const FlatUnit u = unit_for(3);  // flat: a[0,10) pad2 b[12,15) pad1 c[16,23) pad1
  std::vector<std::vector<ShardRun>> all;
  for (int r = 0; r < 3; ++r) all.push_back(shard_runs(u, r));
  // rank 1 = [8, 16): a[8,10), pad 2, b, pad 1
  const auto& r1 = all[1];
  ASSERT_EQ(r1.size(), 4u);
  EXPECT_FALSE(r1[0].padding);
  EXPECT_EQ(r1[0].k, 0u);
  EXPECT_EQ(r1[0].param_offset, 8u);
  EXPECT_EQ(r1[0].count, 2u);
  EXPECT_TRUE(r1[1].padding);
  EXPECT_EQ(r1[1].count, 2u);
  EXPECT_EQ(r1[2].k, 1u);
  EXPECT_EQ(r1[2].count, 3u);
  EXPECT_TRUE(r1[3].padding);
  EXPECT_EQ(r1[3].count, 1u);
  // Every shard adds up to the shard size; every parameter element appears once.
  std::vector<uint64_t> seen(3, 0);
  for (const auto& runs : all) {
    uint64_t total = 0;
    for (const ShardRun& run : runs) {
      total += run.count;
      if (!run.padding) seen[run.k] += run.count;
    }
    EXPECT_EQ(total, u.shard_numel);
  }
  EXPECT_EQ(seen, (std::vector<uint64_t>{10, 3, 7}));
}

TEST(FsdpRelayout, ARankWithOnlyPadding) {
  // 5 elements over 8 ranks: ranks 5..7 hold end padding only.
  const FlatUnit u = fsdp_layout({"x"}, {5}, FsdpUnitRules({}), 8, 8)[0];
  const auto runs = shard_runs(u, 6);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].padding);
  EXPECT_EQ(runs[0].count, 1u);
}

}  // namespace
}  // namespace fsdpshard
