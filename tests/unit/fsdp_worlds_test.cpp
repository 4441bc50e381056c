// FSDP layout and relayout for every world size 1..5 (fsdp_layout_test.cpp and
// fsdp_relayout_test.cpp check single cases against torch's numbers): the invariants
// any layout must keep, and a simulated move of every element from each old world size
// to each new one, element by element, through old_runs and shard_runs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fsdpshard/plan/fsdp_layout.h"
#include "fsdpshard/plan/fsdp_relayout.h"

namespace fsdpshard {
namespace {

// Two units (a layer and the root) with awkward sizes: odd counts, a 1-element bias,
// a parameter larger than a whole shard at world 5.
const std::vector<std::string> kNames = {"emb.weight", "transformer.layers.0.w", "transformer.layers.0.b",
                                         "out.bias", "transformer.layers.0.scale", "out.weight"};
const std::vector<uint64_t> kNumels = {37, 24, 1, 3, 5, 50};

std::vector<FlatUnit> layout(int world, uint64_t alignment) {
  return fsdp_layout(kNames, kNumels, FsdpUnitRules::audiocraft(), world, alignment);
}

// What one element of a shard holds: parameter `param` (caller's index), element `element`;
// param == -1 for padding.
struct Cell {
  long param = -1;
  uint64_t element = 0;
  bool operator==(const Cell& o) const { return param == o.param && element == o.element; }
};
using Shard = std::vector<Cell>;

// Each rank's shard of `unit`, built from FlatUnit::piece alone.
std::vector<Shard> shards_from_pieces(const FlatUnit& unit) {
  std::vector<Shard> shards(static_cast<std::size_t>(unit.world), Shard(unit.shard_numel));
  for (int r = 0; r < unit.world; ++r) {
    for (std::size_t k = 0; k < unit.params.size(); ++k) {
      const FlatPiece p = unit.piece(k, r);
      for (uint64_t i = 0; i < p.count; ++i) {
        shards[r][p.shard_offset + i] = {static_cast<long>(unit.params[k]), p.param_offset + i};
      }
    }
  }
  return shards;
}

TEST(FsdpWorlds, LayoutInvariantsForWorldsOneToFive) {
  for (uint64_t alignment : {1u, 4u, 8u}) {
    for (int world = 1; world <= 5; ++world) {
      SCOPED_TRACE("world " + std::to_string(world) + ", alignment " + std::to_string(alignment));
      const auto units = layout(world, alignment);
      ASSERT_EQ(units.size(), 2u);  // first appearance order: the root (emb), then the layer
      EXPECT_EQ(units[0].name, "");
      EXPECT_EQ(units[1].name, "transformer.layers.0");
      for (const FlatUnit& u : units) {
        EXPECT_EQ(u.world, world);
        EXPECT_EQ(u.padded_numel % world, 0u);
        EXPECT_EQ(u.shard_numel * world, u.padded_numel);
        uint64_t end = 0;
        for (std::size_t k = 0; k < u.params.size(); ++k) {
          EXPECT_EQ(u.starts[k] % alignment, 0u) << "parameter " << k;
          EXPECT_GE(u.starts[k], end);
          EXPECT_LT(u.starts[k] - end, k == 0 ? 1 : alignment);  // no more padding than aligning needs
          end = u.starts[k] + u.numels[k];
        }
        // The end is padded to the next multiple of the world size, no further.
        EXPECT_GE(u.padded_numel, end);
        EXPECT_LT(u.padded_numel - end, static_cast<uint64_t>(world));
        // Every element of every parameter sits in exactly one rank's shard, once.
        const std::vector<Shard> shards = shards_from_pieces(u);
        std::vector<std::vector<int>> seen(u.params.size());
        for (std::size_t k = 0; k < u.params.size(); ++k) seen[k].assign(u.numels[k], 0);
        for (const Shard& shard : shards) {
          for (const Cell& c : shard) {
            if (c.param < 0) continue;
            for (std::size_t k = 0; k < u.params.size(); ++k) {
              if (static_cast<long>(u.params[k]) == c.param) seen[k][c.element] += 1;
            }
          }
        }
        for (std::size_t k = 0; k < u.params.size(); ++k) {
          for (uint64_t i = 0; i < u.numels[k]; ++i) ASSERT_EQ(seen[k][i], 1) << "parameter " << k << "[" << i << "]";
        }
      }
    }
  }
}

TEST(FsdpWorlds, ShardRunsDescribeTheShardsThePiecesMake) {
  for (int world = 1; world <= 5; ++world) {
    for (const FlatUnit& u : layout(world, 8)) {
      const std::vector<Shard> expected = shards_from_pieces(u);
      for (int r = 0; r < world; ++r) {
        SCOPED_TRACE("world " + std::to_string(world) + ", rank " + std::to_string(r) + ", unit '" + u.name + "'");
        Shard got;
        for (const ShardRun& run : shard_runs(u, r)) {
          for (uint64_t i = 0; i < run.count; ++i) {
            got.push_back(run.padding ? Cell{} : Cell{static_cast<long>(u.params[run.k]), run.param_offset + i});
          }
        }
        EXPECT_TRUE(got == expected[r]);
      }
    }
  }
}

TEST(FsdpWorlds, EveryElementMovesFromEachOldWorldToEachNewOne) {
  // A new rank's shard, filled only through old_runs from the old ranks' shards, must equal
  // the shard the new layout's pieces describe: what `reshard --world M` relies on.
  for (int old_world = 1; old_world <= 5; ++old_world) {
    for (int new_world = 1; new_world <= 5; ++new_world) {
      SCOPED_TRACE("world " + std::to_string(old_world) + " -> " + std::to_string(new_world));
      const auto old_units = layout(old_world, 8);
      const auto new_units = layout(new_world, 8);
      ASSERT_EQ(old_units.size(), new_units.size());
      for (std::size_t u = 0; u < old_units.size(); ++u) {
        const FlatUnit& old_unit = old_units[u];
        const FlatUnit& new_unit = new_units[u];
        const std::vector<Shard> old_shards = shards_from_pieces(old_unit);
        const std::vector<Shard> expected = shards_from_pieces(new_unit);
        for (int r = 0; r < new_world; ++r) {
          Shard moved;
          for (const ShardRun& run : shard_runs(new_unit, r)) {
            if (run.padding) {
              moved.insert(moved.end(), run.count, Cell{});
              continue;
            }
            uint64_t covered = 0;
            for (const OldRun& from : old_runs(old_unit, run.k, run.param_offset, run.count)) {
              const FlatPiece piece = old_unit.piece(run.k, from.rank);
              for (uint64_t i = 0; i < from.count; ++i) {
                moved.push_back(old_shards[from.rank][piece.shard_offset + from.offset + i]);
              }
              covered += from.count;
            }
            EXPECT_EQ(covered, run.count);
          }
          EXPECT_TRUE(moved == expected[r]) << "new rank " << r << ", unit '" << new_unit.name << "'";
        }
      }
    }
  }
}

}  // namespace
}  // namespace fsdpshard
