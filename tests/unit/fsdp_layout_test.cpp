// FSDP flat-parameter layout: numbers checked against what torch 2.x FSDP wrote for the
// committed fixtures (tests/fixtures/fsdp/w3: dim 6, fp16 compute dtype, 3 ranks).
#include <gtest/gtest.h>

#include "fsdpshard/util/error.h"
#include "fsdpshard/plan/fsdp_layout.h"

namespace fsdpshard {
namespace {

std::vector<std::string> root_names() {
  return {"emb.0.weight", "emb.1.weight", "emb.2.weight", "emb.3.weight", "out_norm.weight",
          "out_norm.bias", "linears.0.weight", "linears.1.weight", "linears.2.weight", "linears.3.weight"};
}
std::vector<uint64_t> root_numels() { return {102, 102, 102, 102, 6, 6, 96, 96, 96, 96}; }

TEST(FsdpLayout, AlignmentFollowsTheComputeDtype) {
  EXPECT_EQ(fsdp_alignment(2), 8u);
  EXPECT_EQ(fsdp_alignment(4), 4u);
  EXPECT_EQ(fsdp_alignment(8), 2u);
  EXPECT_EQ(fsdp_alignment(32), 1u);
}

TEST(FsdpLayout, StartsAlignedAndEndPaddedToWorld) {
  const auto units = fsdp_layout(root_names(), root_numels(), FsdpUnitRules::audiocraft(), 3, 8);
  ASSERT_EQ(units.size(), 1u);
  const FlatUnit& u = units[0];
  EXPECT_EQ(u.name, "");
  EXPECT_EQ(u.starts, (std::vector<uint64_t>{0, 104, 208, 312, 416, 424, 432, 528, 624, 720}));
  EXPECT_EQ(u.padded_numel, 816u);
  EXPECT_EQ(u.shard_numel, 272u);
}

TEST(FsdpLayout, PiecesAsTorchWroteThem) {
  const FlatUnit u = fsdp_layout(root_names(), root_numels(), FsdpUnitRules::audiocraft(), 3, 8)[0];
  // rank 0: emb.2 is [208, 272) of its shard; rank 1 holds the rest of emb.2 at offset 0.
  FlatPiece p = u.piece(2, 0);
  EXPECT_EQ(p.shard_offset, 208u);
  EXPECT_EQ(p.param_offset, 0u);
  EXPECT_EQ(p.count, 64u);
  p = u.piece(2, 1);
  EXPECT_EQ(p.shard_offset, 0u);
  EXPECT_EQ(p.param_offset, 64u);
  EXPECT_EQ(p.count, 38u);
  EXPECT_EQ(u.piece(3, 0).count, 0u);  // emb.3 is not on rank 0
  EXPECT_EQ(u.piece(4, 1).shard_offset, 144u);  // out_norm.weight on rank 1
  // Every parameter's pieces add up to the parameter, in rank order.
  for (std::size_t k = 0; k < u.params.size(); ++k) {
    uint64_t next = 0;
    for (int r = 0; r < 3; ++r) {
      const FlatPiece q = u.piece(k, r);
      if (q.count == 0) continue;
      EXPECT_EQ(q.param_offset, next);
      next += q.count;
    }
    EXPECT_EQ(next, u.numels[k]);
  }
}

TEST(FsdpLayout, AudioCraftUnitsAndCustomRules) {
  const FsdpUnitRules ac = FsdpUnitRules::audiocraft();
  EXPECT_EQ(ac.unit_of("condition_provider.conditioners.description.output_proj.weight"), "condition_provider");
  EXPECT_EQ(ac.unit_of("transformer.layers.12.linear1.weight"), "transformer.layers.12");
  EXPECT_EQ(ac.unit_of("emb.0.weight"), "");
  EXPECT_EQ(ac.unit_of("x.transformer.layers.1.w"), "");  // anchored at the start
  const FsdpUnitRules custom({"blocks\\.[0-9]+"});
  EXPECT_EQ(custom.unit_of("blocks.3.w"), "blocks.3");
  EXPECT_THROW(FsdpUnitRules({"("}), InputError);
}

TEST(FsdpLayout, UnitsGroupInOrderOfFirstAppearance) {
  const std::vector<std::string> names{"condition_provider.a", "emb.0.weight", "transformer.layers.0.x",
                                       "transformer.layers.0.y", "out_norm.weight"};
  const auto units = fsdp_layout(names, {5, 3, 1, 2, 7}, FsdpUnitRules::audiocraft(), 2, 4);
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(units[0].name, "condition_provider");
  EXPECT_EQ(units[1].name, "");
  EXPECT_EQ(units[1].params, (std::vector<std::size_t>{1, 4}));
  EXPECT_EQ(units[1].starts, (std::vector<uint64_t>{0, 4}));
  EXPECT_EQ(units[1].padded_numel, 12u);  // 4 + 7 = 11, padded to 12
  EXPECT_EQ(units[2].starts, (std::vector<uint64_t>{0, 4}));
  EXPECT_EQ(units[2].padded_numel, 6u);
  EXPECT_EQ(units[0].padded_numel, 6u);
  EXPECT_EQ(units[0].piece(0, 1).count, 2u);
}

TEST(FsdpLayout, WorldOfOneHoldsEverything) {
  const auto units = fsdp_layout({"a", "b"}, {3, 5}, FsdpUnitRules({}), 1, 4);
  EXPECT_EQ(units[0].piece(1, 0).shard_offset, 4u);
  EXPECT_EQ(units[0].piece(1, 0).count, 5u);
  EXPECT_THROW(fsdp_layout({"a"}, {1}, FsdpUnitRules({}), 0, 4), InputError);
}

}  // namespace
}  // namespace fsdpshard
