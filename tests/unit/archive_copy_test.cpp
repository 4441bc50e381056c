// cfg's output (formats/archive_copy.h) through the executor, without Python: a torch
// 2.x archive copied with a new data.pkl keeps every other record — name, order, bytes —
// and the CRC-32 its input states, even where that CRC no longer matches (a corrupt
// record stays detectably corrupt instead of being vouched for by a fresh CRC).
#include <gtest/gtest.h>

#include "formats/archive_copy.h"
#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/archive/crc32.h"
#include "fsdpshard/execute/executor.h"
#include "fsdpshard/archive/zip_reader.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

TEST(ArchiveCopy, KeepsRecordsOrderBytesAndStatedCrcs) {
  TempDir dir;
  // A torch 2.15 training checkpoint (committed fixture) with one tensor byte flipped.
  std::string bytes = read_file(source_dir() + "/tests/fixtures/golden/training/checkpoint.th");
  const std::string input = dir.file("checkpoint.th");
  write_file(input, bytes);
  const ZipRecord corrupted = [&] {
    const ZipReader zip(input);
    for (const ZipRecord& r : zip.records()) {
      if (r.name.rfind("data/", 0) == 0 && r.size > 0) return r;
    }
    return ZipRecord{};
  }();
  ASSERT_FALSE(corrupted.name.empty());
  bytes[corrupted.data_offset] ^= 0x01;
  write_file(input, bytes);

  const Checkpoint ckpt(input);
  const std::string output = dir.file("copy.th");
  const Plan plan = plan_archive_copy(ckpt, "new pickle", output);
  auto comm = make_communicator("local");
  execute(plan, *comm, ExecuteOptions{});

  const ZipReader in(input), out(output);
  EXPECT_EQ(out.root(), in.root());
  ASSERT_EQ(out.records().size(), in.records().size());
  for (std::size_t i = 0; i < in.records().size(); ++i) {
    const ZipRecord& a = in.records()[i];
    const ZipRecord& b = out.records()[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.method, 0) << b.name;
    EXPECT_EQ(b.data_offset % 64, 0u) << b.name << ": the alignment torch computes offsets with";
    if (a.name == "data.pkl") {
      EXPECT_EQ(out.read(b), "new pickle");
      continue;
    }
    EXPECT_EQ(out.read(b), in.read(a)) << a.name;
    EXPECT_EQ(b.crc32, a.crc32) << a.name;
  }
  const ZipRecord& copied = out.require(corrupted.name);
  const std::string data = out.read(copied);
  EXPECT_NE(crc32_update(0, data.data(), data.size()), copied.crc32) << "the corrupt record got a CRC that vouches for it";
}

}  // namespace
}  // namespace fsdpshard::test
