// The input model (src/source): one recogniser for every input, storages as byte
// segments, and an FSDP run's rank files assembled into one Checkpoint. Files are written
// here or taken from the committed real FSDP fixtures (tests/fixtures/fsdp, torch 2.x);
// no Python, no MPI.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "verify/tensor_stream.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/read_only_file.h"
#include "fsdpshard/archive/safetensors.h"
#include "fsdpshard/source/resolve_source.h"
#include "fsdpshard/source/open_source.h"
#include "fsdpshard/source/recognize_input.h"
#include "fsdpshard/source/storage_segments.h"
#include "support/test_support.h"

namespace fsdpshard {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string real_fsdp(const std::string& name) { return test::source_dir() + "/tests/fixtures/fsdp/" + name; }

// A safetensors file at `path` holding one float32 tensor "w" of `values`.
void write_safetensors(const std::string& path, const std::vector<float>& values) {
  const std::string header =
      make_safetensors_header({{"w", DType::Float32, {values.size()}, values.size() * 4}}, {{"format", "pt"}});
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i)));
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * 4);
  test::write_file(path, bytes);
}

std::string open_error(const std::string& path, const SourceOptions& options = {}) {
  try {
    open_source(path, options);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(SourceRecognizer, TellsEveryInputKindApart) {
  TempDir dir;
  write_safetensors(dir.file("model.safetensors"), {1, 2, 3});
  EXPECT_EQ(recognize_input(dir.file("model.safetensors")).kind, InputKind::Safetensors);
  EXPECT_FALSE(recognize_input(dir.file("model.safetensors")).by_content);

  const RecognizedInput lone = recognize_input(dir.path());
  EXPECT_EQ(lone.kind, InputKind::ShardSet);
  EXPECT_TRUE(lone.lone_file);
  EXPECT_EQ(lone.file, dir.file("model.safetensors"));

  test::write_file(dir.file("model.safetensors.index.json"), R"({"weight_map": {"w": "model.safetensors"}})");
  const RecognizedInput indexed = recognize_input(dir.path());
  EXPECT_EQ(indexed.kind, InputKind::ShardSet);
  EXPECT_FALSE(indexed.lone_file);
  EXPECT_EQ(indexed.file, dir.file("model.safetensors.index.json"));
  EXPECT_EQ(recognize_input(dir.file("model.safetensors.index.json")).kind, InputKind::ShardSet);

  EXPECT_EQ(recognize_input(real_fsdp("w2/full_model.th")).kind, InputKind::TorchSave);
  const RecognizedInput run = recognize_input(real_fsdp("w2"));
  EXPECT_EQ(run.kind, InputKind::FsdpSet);
  EXPECT_EQ(run.file, real_fsdp("w2") + "/checkpoint.th");
  EXPECT_EQ(recognize_input(real_fsdp("w2/checkpoint.th.1")).kind, InputKind::FsdpSet);  // named like a rank file
}

TEST(SourceRecognizer, SafetensorsWithoutItsExtensionIsReadByContent) {
  TempDir dir;
  write_safetensors(dir.file("weights.bin"), {1.5f, -2.0f});
  const RecognizedInput in = recognize_input(dir.file("weights.bin"));
  EXPECT_EQ(in.kind, InputKind::Safetensors);
  EXPECT_TRUE(in.by_content);
  const auto ckpt = open_source(dir.file("weights.bin"));
  EXPECT_EQ(ckpt->kind(), InputKind::Safetensors);
  const StateDict sd = resolve_source(*ckpt, "auto");
  ASSERT_EQ(sd.tensors.size(), 1u);
  EXPECT_EQ(sd.tensors[0].tensor.sizes, std::vector<int64_t>{2});
}

TEST(SourceRecognizer, ClearErrorsNameWhatWasExpected) {
  TempDir dir;
  test::write_file(dir.file("junk.th"), std::string(100, 'x'));
  const std::string junk = open_error(dir.file("junk.th"));
  EXPECT_NE(junk.find(dir.file("junk.th") + ": not a zip archive (torch.save files start with PK\\x03\\x04) nor a "
                      "safetensors file ("),
            std::string::npos)
      << junk;
  EXPECT_EQ(open_error(dir.file("nope.th")), dir.file("nope.th") + ": no such file");

  fs::create_directories(dir.file("empty"));
  const std::string empty = open_error(dir.file("empty"));
  for (const char* expected : {"*.index.json", "model.safetensors", "pytorch_model.bin", "checkpoint.th"}) {
    EXPECT_NE(empty.find(expected), std::string::npos) << empty;
  }
  fs::create_directories(dir.file("two"));
  test::write_file(dir.file("two/a.index.json"), "{}");
  test::write_file(dir.file("two/b.index.json"), "{}");
  EXPECT_NE(open_error(dir.file("two")).find("found 2 index files"), std::string::npos);
}

TEST(StorageSegments, RunsAcrossSegmentBoundaries) {
  StorageLocation where;
  append_segment(where, 0, 1000, 8, std::nullopt);  // storage bytes [0, 8)
  append_segment(where, 1, 40, 4, 0xabcdu);         // [8, 12), a whole record
  append_segment(where, 2, 0, 12, std::nullopt);    // [12, 24)
  EXPECT_EQ(where.size, 24u);
  EXPECT_EQ(where.segments[2].placement, 12u);

  const auto pieces = storage_pieces(where, 4, 16, "t");  // [4, 20): three pieces
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].input, 0u);
  EXPECT_EQ(pieces[0].offset, 1004u);
  EXPECT_EQ(pieces[0].length, 4u);
  EXPECT_FALSE(pieces[0].whole);
  EXPECT_EQ(pieces[1].offset, 40u);
  EXPECT_TRUE(pieces[1].whole);
  EXPECT_EQ(pieces[1].crc32, std::optional<uint32_t>(0xabcdu));
  EXPECT_EQ(pieces[2].offset, 0u);
  EXPECT_EQ(pieces[2].length, 8u);
  EXPECT_TRUE(storage_pieces(where, 24, 0, "t").empty());
  EXPECT_THROW(storage_pieces(where, 20, 5, "t"), InputError);

  PlannedRecord r;  // float32 elements 1..4 of the storage: bytes [4, 20)
  add_storage_run(r, where, 4, 4, DType::Float32, "t");
  ASSERT_EQ(r.segments.size(), 3u);
  EXPECT_EQ(r.count, 4u);
  EXPECT_EQ(r.segments[1].input, 1u);
  EXPECT_EQ(r.segments[1].count, 1u);
  PlannedRecord split;  // an int64 element would span segments 0 and 1
  EXPECT_THROW(add_storage_run(split, where, 4, 1, DType::Int64, "t"), InputError);
}

TEST(StorageSegments, StridedViewReadsAcrossFiles) {
  // A 4x3 uint8 storage 0..11 split into files a (bytes 0..4) and b (5..11), b's bytes
  // placed at an offset of 3 in its file; the transposed view reads column by column.
  TempDir dir;
  test::write_file(dir.file("a"), std::string("\x00\x01\x02\x03\x04", 5));
  test::write_file(dir.file("b"), std::string("xyz\x05\x06\x07\x08\x09\x0a\x0b", 10));
  const ReadOnlyFile a(dir.file("a")), b(dir.file("b"));
  TensorLocation where;
  where.storage = {{a.fd(), dir.file("a"), 0, 5, 0}, {b.fd(), dir.file("b"), 3, 7, 5}};
  where.dtype = DType::UInt8;
  where.sizes = {3, 4};
  where.strides = {1, 3};
  TensorStream stream(where);
  std::string got(12, '\0');
  stream.read(got.data(), 5);
  stream.read(got.data() + 5, 7);
  EXPECT_EQ(got, std::string("\x00\x03\x06\x09\x01\x04\x07\x0a\x02\x05\x08\x0b", 12));

  std::string run(4, '\0');
  read_storage_bytes(where, run.data(), 4, 3);  // bytes 3..6: both files
  EXPECT_EQ(run, std::string("\x03\x04\x05\x06", 4));
  EXPECT_THROW(read_storage_bytes(where, run.data(), 2, 11), InputError);
}

// The bytes of `t`'s storage view, read through its segments (contiguous tensors only).
std::string tensor_bytes(const Checkpoint& ckpt, const TensorRef& t, std::vector<ReadOnlyFile>& files) {
  TensorLocation where;
  for (const StorageSegment& s : ckpt.storage_location(t.storage).segments) {
    where.storage.push_back({files[s.input].fd(), ckpt.inputs()[s.input], s.offset, s.length, s.placement});
  }
  where.offset = t.storage_offset * element_size(t.dtype);
  where.dtype = t.dtype;
  where.sizes = t.sizes;
  where.strides = t.strides;
  std::string out(t.nbytes(), '\0');
  TensorStream(where).read(out.data(), t.numel());
  return out;
}

TEST(FsdpSetAssembly, PerRankStateIsTheFullStateDictOverRankSegments) {
  for (const char* world : {"w2", "w3"}) {
    SCOPED_TRACE(world);
    const auto set = open_source(real_fsdp(world), {"model", "", {}});
    EXPECT_EQ(set->kind(), InputKind::FsdpSet);
    const int ranks = std::string(world) == "w2" ? 2 : 3;
    ASSERT_EQ(set->inputs().size(), static_cast<std::size_t>(ranks));
    EXPECT_EQ(set->inputs()[0], real_fsdp(world) + "/checkpoint.th");
    EXPECT_EQ(set->archives().size(), static_cast<std::size_t>(ranks));
    const auto reference = open_source(real_fsdp(std::string(world) + "/full_model.th"));
    const StateDict full = resolve_source(*reference, "auto");
    const StateDict sd = resolve_source(*set, "model");
    ASSERT_EQ(sd.tensors.size(), full.tensors.size());

    std::vector<ReadOnlyFile> set_files, reference_files;
    for (const auto& p : set->inputs()) set_files.emplace_back(p);
    for (const auto& p : reference->inputs()) reference_files.emplace_back(p);
    bool spans_ranks = false;
    for (std::size_t i = 0; i < sd.tensors.size(); ++i) {
      const TensorRef& t = sd.tensors[i].tensor;
      SCOPED_TRACE(sd.tensors[i].name);
      EXPECT_EQ(sd.tensors[i].name, full.tensors[i].name);
      EXPECT_EQ(t.sizes, full.tensors[i].tensor.sizes);
      const StorageLocation where = set->storage_location(t.storage);
      EXPECT_EQ(where.size, t.nbytes());
      uint64_t placement = 0;
      uint32_t last_rank = 0;
      for (const StorageSegment& s : where.segments) {
        EXPECT_EQ(s.placement, placement);  // in storage order, no gap
        EXPECT_GE(s.input, last_rank);      // in rank order
        placement += s.length;
        last_rank = s.input;
      }
      spans_ranks = spans_ranks || where.segments.size() > 1;
      // The same bits as FSDP's own FULL_STATE_DICT, read across the rank files.
      EXPECT_EQ(tensor_bytes(*set, t, set_files), tensor_bytes(*reference, full.tensors[i].tensor, reference_files));
    }
    EXPECT_TRUE(spans_ranks) << "no parameter has pieces in two rank files";
  }
}

TEST(FsdpSetAssembly, OtherStateDictsOpenRankZeroAlone) {
  for (const std::string& path : {real_fsdp("w2"), real_fsdp("w2/checkpoint.th")}) {
    for (const char* from : {"auto", "fsdp_best_state.model"}) {
      const auto ckpt = open_source(path, {from, "", {}});
      EXPECT_EQ(ckpt->kind(), InputKind::TorchSave);
      EXPECT_EQ(ckpt->path(), real_fsdp("w2/checkpoint.th"));
      EXPECT_EQ(ckpt->inputs().size(), 1u);
      EXPECT_EQ(resolve_source(*ckpt, from).path, "fsdp_best_state.model");
    }
  }
  // A rank-N file with a per-rank state dict points at rank 0's file.
  EXPECT_NE(open_error(real_fsdp("w2/checkpoint.th.1"), {"model", "", {}}).find("is rank 1's file"),
            std::string::npos);
}

}  // namespace
}  // namespace fsdpshard
