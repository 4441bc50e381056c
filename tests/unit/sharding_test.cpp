// How tensors are split into shard files (plan/sharding.cpp) and how the files and their
// index are named (commands/shard_index.cpp), without Python: huggingface_hub's rules
// (serialization/_base.py, split_state_dict_into_shards_factory; the index as
// save_torch_state_dict's json.dump(..., indent=2) writes it) spelled out as cases.
// tests/integration/hf_shards_test.cpp compares whole outputs with huggingface_hub itself.
#include <gtest/gtest.h>

#include "formats/shard_index.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/plan/sharding.h"

namespace fsdpshard {
namespace {

using Files = ShardFiles;

// One unit per tensor, tensor k of `bytes[k]` bytes.
std::vector<ShardUnit> single_tensor_units(const std::vector<uint64_t>& bytes) {
  std::vector<ShardUnit> units;
  for (std::size_t k = 0; k < bytes.size(); ++k) units.push_back({{k}, bytes[k]});
  return units;
}

TEST(HfSplit, FillsFilesInKeyOrderUpToTheLimit) {
  // 4 + 4 = 8 fits a limit of 8 exactly (the test is `size + next > limit`); 3 opens file 2.
  EXPECT_EQ(hf_shards(single_tensor_units({4, 4, 3, 5, 1}), 8), (Files{{0, 1}, {2, 3}, {4}}));
  // Everything fits: one file.
  EXPECT_EQ(hf_shards(single_tensor_units({1, 2, 3}), 100), (Files{{0, 1, 2}}));
  // A limit of 1 byte: one tensor a file.
  EXPECT_EQ(hf_shards(single_tensor_units({1, 1, 1}), 1), (Files{{0}, {1}, {2}}));
}

TEST(HfSplit, ATensorLargerThanTheLimitGetsAFileOfItsOwnAtOnce) {
  // huggingface_hub appends an oversized tensor to the list of shards right away, while
  // the shard being filled stays open: so the big one is numbered BEFORE the open shard
  // holding the tensors that precede it in key order.
  EXPECT_EQ(hf_shards(single_tensor_units({3, 3, 10, 1}), 8), (Files{{2}, {0, 1, 3}}));
  // ... and the open shard still closes when the next tensor would pass the limit.
  EXPECT_EQ(hf_shards(single_tensor_units({3, 3, 10, 3}), 8), (Files{{2}, {0, 1}, {3}}));
  // Oversized first and last; two oversized in a row.
  EXPECT_EQ(hf_shards(single_tensor_units({9, 2, 9}), 8), (Files{{0}, {2}, {1}}));
  EXPECT_EQ(hf_shards(single_tensor_units({9, 9}), 8), (Files{{0}, {1}}));
  // Exactly the limit is not larger than it.
  EXPECT_EQ(hf_shards(single_tensor_units({8, 8}), 8), (Files{{0}, {1}}));
}

TEST(HfSplit, TensorsSharingAStorageGoWhereTheFirstOneWentAtTheEndOfThatFile) {
  // Tensors 0 and 3 share one storage of 4 bytes (counted once); tensor 1 and 2 are 2 bytes.
  // huggingface_hub splits by storage (the first key of each), then re-adds the other keys
  // of a storage to the shard holding its first key: they end up at that shard's end.
  const std::vector<ShardUnit> units = {{{0, 3}, 4}, {{1}, 2}, {{2}, 2}};
  EXPECT_EQ(hf_shards(units, 6), (Files{{0, 1, 3}, {2}}));
  EXPECT_EQ(hf_shards(units, 100), (Files{{0, 1, 2, 3}}));
  // Two shared units in one file: first tensors in unit order, then each unit's others.
  const std::vector<ShardUnit> two = {{{0, 2}, 4}, {{1, 3, 4}, 4}};
  EXPECT_EQ(hf_shards(two, 100), (Files{{0, 1, 2, 3, 4}}));
  EXPECT_EQ(hf_shards(two, 4), (Files{{0, 2}, {1, 3, 4}}));
}

TEST(HfSplit, NoTensorsStillMakesOneFile) {
  EXPECT_EQ(hf_shards({}, 8), (Files{{}}));
  // A unit without tensors (nothing selected of it) takes no place.
  EXPECT_EQ(hf_shards({{{}, 5}, {{0}, 1}}, 8), (Files{{0}}));
}

TEST(BalanceShards, LargestFirstOntoTheLightestFileTiesToTheLowerFile) {
  // By size: tensor 2 (9 bytes), 0 (5), 3 (4), 1 (3), 4 (1). 2 -> f0; 0 -> f1; 3 -> f1
  // (5 < 9); 1: both files hold 9, the tie goes to f0; 4 -> f1 (9 < 12).
  EXPECT_EQ(balance_shards(single_tensor_units({5, 3, 9, 4, 1}), 2), (Files{{1, 2}, {0, 3, 4}}));
  // Equal sizes: round robin from the lowest file; each file in key order.
  EXPECT_EQ(balance_shards(single_tensor_units({2, 2, 2, 2, 2}), 3), (Files{{0, 3}, {1, 4}, {2}}));
}

TEST(BalanceShards, SharedStoragesStayTogetherAndFilesMayStayEmpty) {
  const std::vector<ShardUnit> units = {{{0, 2}, 6}, {{1}, 2}};
  EXPECT_EQ(balance_shards(units, 2), (Files{{0, 2}, {1}}));
  EXPECT_EQ(balance_shards(units, 4), (Files{{0, 2}, {1}, {}, {}}));
  EXPECT_EQ(balance_shards({}, 2), (Files{{}, {}}));
}

TEST(BalanceShards, TheSameAnswerEveryTime) {
  // Every rank plans alone: equal inputs must give equal files (stable order on ties).
  const auto units = single_tensor_units({7, 1, 7, 3, 3, 7, 1, 0, 2});
  const Files first = balance_shards(units, 4);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(balance_shards(units, 4), first);
}

TEST(ShardNames, AsHuggingFaceHubNamesThem) {
  EXPECT_EQ(shard_file_name(true, 0, 1), "model.safetensors");
  EXPECT_EQ(shard_file_name(false, 0, 1), "pytorch_model.bin");
  EXPECT_EQ(shard_file_name(true, 0, 3), "model-00001-of-00003.safetensors");
  EXPECT_EQ(shard_file_name(false, 2, 3), "pytorch_model-00003-of-00003.bin");
  EXPECT_EQ(shard_file_name(true, 99998, 99999), "model-99999-of-99999.safetensors");
  EXPECT_EQ(shard_index_name(true), "model.safetensors.index.json");
  EXPECT_EQ(shard_index_name(false), "pytorch_model.bin.index.json");
}

TEST(ShardIndex, BytesAsPythonsJsonDumpWithIndentTwo) {
  // Expected strings are Python 3.11's json.dumps(d, indent=2) output for the same dicts.
  EXPECT_EQ(shard_index_json(12, {{"format", "pt"}, {"note", "\xc3\xa9\xf0\x9f\x98\x80\"\\"}},
                             {{"a", "model-00001-of-00002.safetensors"},
                              {"b\xc3\xa9", "model-00002-of-00002.safetensors"}}),
            "{\n  \"metadata\": {\n    \"total_size\": 12,\n    \"format\": \"pt\",\n"
            "    \"note\": \"\\u00e9\\ud83d\\ude00\\\"\\\\\"\n  },\n  \"weight_map\": {\n"
            "    \"a\": \"model-00001-of-00002.safetensors\",\n"
            "    \"b\\u00e9\": \"model-00002-of-00002.safetensors\"\n  }\n}");
  // An empty weight map is "{}" on one line, as json.dump writes an empty dict.
  EXPECT_EQ(shard_index_json(0, {}, {}), "{\n  \"metadata\": {\n    \"total_size\": 0\n  },\n  \"weight_map\": {}\n}");
}

TEST(ShardIndex, StringsEscapedAsJsonDumpsWithEnsureAscii) {
  EXPECT_EQ(python_json_string("\x01\x1f\x7f\t\n/"), "\"\\u0001\\u001f\\u007f\\t\\n/\"");
  EXPECT_EQ(python_json_string(""), "\"\"");
  EXPECT_EQ(python_json_string("layers.0.weight"), "\"layers.0.weight\"");
  // Not UTF-8 (a lone continuation byte, a truncated sequence): JSON cannot hold it.
  EXPECT_THROW(shard_index_json(1, {}, {{"bad\x80", "model.safetensors"}}), InputError);
  EXPECT_THROW(shard_index_json(1, {{"k", "\xe2\x82"}}, {}), InputError);
}

}  // namespace
}  // namespace fsdpshard
