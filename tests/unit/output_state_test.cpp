// Output planning (checkpoint/output_state.cpp) on a small torch.save file written here by
// the project's own pickler and ZipWriter: which storages are compacted to their tensor,
// which are copied whole (sharing and strided views survive), and when a record keeps the
// CRC-32 its input states. No Python, no MPI: the plan is checked before any byte moves.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>

#include "torch_pickle/tensor_nodes.h"
#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/formats/output_state.h"
#include "fsdpshard/pickle/pickler.h"
#include "fsdpshard/plan/selection.h"
#include "fsdpshard/archive/zip_writer.h"
#include "support/test_support.h"

namespace fsdpshard {
namespace {

// One storage of the test file: record data/<key>, its dtype and element count.
struct StorageSpec {
  std::string key;
  DType dtype;
  uint64_t numel;
};
// One tensor of the test file's state dict, over storage `storage` (an index into the specs).
struct ViewSpec {
  std::string name;
  std::size_t storage;
  uint64_t offset;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

// What the test file holds: an OrderedDict of views over five storages.
//   lone        [2, 3] float32, the whole of data/0
//   part        [4] float32 at element 3 of data/1's 10
//   shared_a    [4] and shared_b [2, 2] at 4: both in data/2's 8 float32
//   transposed  [3, 2] strides [1, 3] over data/3's 6 float32 (not contiguous)
//   half        [4] float16, the whole of data/4
const std::vector<StorageSpec> kStorages = {
    {"0", DType::Float32, 6}, {"1", DType::Float32, 10}, {"2", DType::Float32, 8},
    {"3", DType::Float32, 6}, {"4", DType::Float16, 4}};
const std::vector<ViewSpec> kViews = {
    {"lone", 0, 0, {2, 3}, {3, 1}},       {"part", 1, 3, {4}, {1}},
    {"shared_a", 2, 0, {4}, {1}},         {"shared_b", 2, 4, {2, 2}, {2, 1}},
    {"transposed", 3, 0, {3, 2}, {1, 3}}, {"half", 4, 0, {4}, {1}}};

// Writes the file as torch.save lays it out: data.pkl, byteorder, data/<key>, version.
void write_test_checkpoint(const std::string& path) {
  Graph g;
  std::vector<NodeId> storages;
  for (const StorageSpec& s : kStorages) storages.push_back(make_storage_node(g, s.dtype, s.key, s.numel));
  std::vector<std::pair<NodeId, NodeId>> entries;
  for (const ViewSpec& v : kViews) {
    const NodeId tensor =
        make_tensor_node(g, storages[v.storage], kStorages[v.storage].dtype, v.offset, v.sizes, v.strides);
    entries.emplace_back(g.str(v.name), tensor);
  }
  g.root = g.ordered_dict(entries);

  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ZipWriter zip(fd, "archive");
  zip.add("data.pkl", pickle(g, g.root));
  zip.add("byteorder", std::string("little"));
  for (const StorageSpec& s : kStorages) {
    std::string bytes(s.numel * element_size(s.dtype), '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + s.key[0]);
    zip.add("data/" + s.key, bytes);
  }
  zip.add("version", std::string("3\n"));
  zip.finish();
  ::close(fd);
}

class OutputPlanning : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("views.pt");
    write_test_checkpoint(path_);
    ckpt_ = std::make_unique<Checkpoint>(path_);
    const auto dicts = ckpt_->state_dicts();
    ASSERT_EQ(dicts.size(), 1u);
    source_ = dicts[0];
    ASSERT_EQ(source_.tensors.size(), kViews.size());
  }

  // build_output_state for the tensors `options` selects.
  OutputState plan(const SelectionOptions& options = {}) {
    std::vector<std::string> names;
    std::vector<DType> dtypes;
    for (const NamedTensor& t : source_.tensors) {
      names.push_back(t.name);
      dtypes.push_back(t.tensor.dtype);
    }
    return build_output_state(*ckpt_, source_, select_tensors(names, dtypes, options));
  }

  const OutputTensor& tensor(const OutputState& out, const std::string& name) {
    for (const OutputTensor& t : out.tensors) {
      if (t.name == name) return t;
    }
    throw std::runtime_error("no output tensor " + name);
  }
  const PlannedRecord& storage_of(const OutputState& out, const std::string& name) {
    return out.storages.at(tensor(out, name).storage);
  }
  const ZipRecord& input_record(const std::string& key) { return ckpt_->archive().require("data/" + key); }

  test::TempDir dir_;
  std::string path_;
  std::unique_ptr<Checkpoint> ckpt_;
  StateDict source_;
};

TEST_F(OutputPlanning, ALoneContiguousTensorOverItsWholeStorageIsCopiedUnchangedWithItsCrc) {
  const auto out = plan();
  const PlannedRecord& lone = storage_of(out, "lone");
  ASSERT_EQ(lone.segments.size(), 1u);
  EXPECT_EQ(lone.segments[0].offset, input_record("0").data_offset);
  EXPECT_EQ(lone.count, 6u);
  EXPECT_TRUE(lone.copies_unchanged());
  ASSERT_TRUE(lone.crc32.has_value());
  EXPECT_EQ(*lone.crc32, input_record("0").crc32);
  EXPECT_EQ(tensor(out, "lone").storage_offset, 0u);
}

TEST_F(OutputPlanning, ALoneContiguousTensorInsideALargerStorageIsCompacted) {
  const auto out = plan();
  const PlannedRecord& part = storage_of(out, "part");
  ASSERT_EQ(part.segments.size(), 1u);
  EXPECT_EQ(part.segments[0].offset, input_record("1").data_offset + 3 * 4);  // element 3 of float32
  EXPECT_EQ(part.count, 4u);               // the tensor's 4 elements, not the storage's 10
  EXPECT_FALSE(part.crc32.has_value());    // a part of a record: its CRC says nothing about it
  EXPECT_EQ(tensor(out, "part").storage_offset, 0u);
}

TEST_F(OutputPlanning, TensorsSharingAStorageShareOneWholeCopyOfIt) {
  const auto out = plan();
  const OutputTensor& a = tensor(out, "shared_a");
  const OutputTensor& b = tensor(out, "shared_b");
  EXPECT_EQ(a.storage, b.storage);
  EXPECT_EQ(a.storage_offset, 0u);
  EXPECT_EQ(b.storage_offset, 4u);
  const PlannedRecord& whole = out.storages.at(a.storage);
  EXPECT_EQ(whole.count, 8u);
  EXPECT_EQ(whole.segments[0].offset, input_record("2").data_offset);
  ASSERT_TRUE(whole.crc32.has_value());
  EXPECT_EQ(*whole.crc32, input_record("2").crc32);
  // One output record per output storage: lone, part, shared, transposed, half.
  EXPECT_EQ(out.storages.size(), 5u);
  for (std::size_t k = 0; k < out.storages.size(); ++k) EXPECT_EQ(out.storages[k].name, "data/" + std::to_string(k));
}

TEST_F(OutputPlanning, AStridedViewKeepsItsStorageAndStrides) {
  const auto out = plan();
  const OutputTensor& t = tensor(out, "transposed");
  EXPECT_FALSE(t.contiguous);
  EXPECT_EQ(out.storages.at(t.storage).count, 6u);
  const auto again = recognize_tensor(ckpt_->graph(), t.node, "output");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->strides, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(again->sizes, (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(writes_whole_storage(source_.tensors[4].tensor, 1));
  EXPECT_FALSE(writes_whole_storage(source_.tensors[0].tensor, 1));
  EXPECT_TRUE(writes_whole_storage(source_.tensors[0].tensor, 2));
}

TEST_F(OutputPlanning, OneSelectedUserOfASharedStorageIsCompacted) {
  SelectionOptions options;
  options.filters = {{true, NamePattern("shared_b", "--include")}};
  const auto out = plan(options);
  ASSERT_EQ(out.tensors.size(), 1u);
  const PlannedRecord& r = out.storages.at(out.tensors[0].storage);
  EXPECT_EQ(r.count, 4u);
  EXPECT_EQ(r.segments[0].offset, input_record("2").data_offset + 4 * 4);
  EXPECT_FALSE(r.crc32.has_value());
  EXPECT_EQ(out.tensors[0].storage_offset, 0u);
}

TEST_F(OutputPlanning, ACastRecordGetsAFreshCrcAndTheNewDtype) {
  SelectionOptions options;
  options.dtype = DType::BFloat16;
  const auto out = plan(options);
  for (const PlannedRecord& r : out.storages) {
    EXPECT_EQ(r.dtype, DType::BFloat16) << r.name;
    EXPECT_FALSE(r.crc32.has_value()) << r.name;  // computed while writing, not taken over
  }
  EXPECT_EQ(storage_of(out, "lone").source_dtype, DType::Float32);
  EXPECT_EQ(storage_of(out, "half").source_dtype, DType::Float16);
  EXPECT_EQ(tensor(out, "lone").nbytes, 12u);  // 6 bfloat16
  // Shared storages are cast whole and stay shared.
  EXPECT_EQ(tensor(out, "shared_a").storage, tensor(out, "shared_b").storage);
}

TEST_F(OutputPlanning, TheNewMappingIsOfTheInputsTypeWithTheOutputNames) {
  SelectionOptions options;
  options.renames = {RenameRule("^shared_=>s.")};
  const auto out = plan(options);
  const Graph& g = ckpt_->graph();
  EXPECT_NE(out.mapping, source_.mapping);
  EXPECT_TRUE(g.is_instance(out.mapping, "collections", "OrderedDict"));
  const auto& entries = g.at(out.mapping).entries;
  ASSERT_EQ(entries.size(), kViews.size());
  std::vector<std::string> keys;
  for (const auto& [key, value] : entries) keys.push_back(g.at(key).text);
  EXPECT_EQ(keys, (std::vector<std::string>{"lone", "part", "s.a", "s.b", "transposed", "half"}));
  // A kept name reuses the input's key node; a renamed one gets a new string.
  EXPECT_EQ(entries[0].first, source_.tensors[0].key);
  EXPECT_NE(entries[2].first, source_.tensors[2].key);
}

}  // namespace
}  // namespace fsdpshard
