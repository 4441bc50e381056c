// Zero segments (SourceSegment::kZeros): a record mixes bytes read from an input with
// runs of zeros, as a re-laid-out FSDP shard does for its padding, and survives a cast.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/execute/executor.h"
#include "fsdpshard/archive/zip_reader.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

std::vector<float> record_floats(const ZipReader& zip, const std::string& name) {
  const std::string bytes = zip.read(zip.require(name));
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

TEST(PlanZeros, SegmentsAndZerosInterleave) {
  TempDir dir;
  const std::vector<float> source{1.f, 2.f, 3.f, 4.f, 5.f};
  write_file(dir.file("in.bin"), std::string(reinterpret_cast<const char*>(source.data()), sizeof(float) * 5));

  Plan plan;
  plan.inputs = {dir.file("in.bin")};
  plan.output = dir.file("out.th");
  PlannedFile file;
  file.name = "out.th";
  file.archive_root = "out";
  file.header = "not read by this test";
  PlannedRecord r;
  r.name = "data/0";
  r.source_dtype = r.dtype = DType::Float32;
  r.add_zeros(2);
  r.add_segment(0, 4, 2);  // 2.f, 3.f
  r.add_zeros(1);
  r.add_segment(0, 16, 1);  // 5.f
  r.add_zeros(0);           // nothing: no segment
  EXPECT_EQ(r.segments.size(), 4u);
  EXPECT_EQ(r.count, 6u);
  PlannedRecord cast = r;  // the same elements cast to float16 on the way
  cast.name = "data/1";
  cast.dtype = DType::Float16;
  file.records = {r, cast};
  plan.files.push_back(file);

  auto comm = make_communicator("local");
  ExecuteOptions options;
  options.max_inflight = 1;  // smallest chunks: reads cross segment boundaries chunk by chunk
  execute(plan, *comm, options);

  const ZipReader zip(dir.file("out.th"));
  EXPECT_EQ(record_floats(zip, "data/0"), (std::vector<float>{0.f, 0.f, 2.f, 3.f, 0.f, 5.f}));
  const std::string half = zip.read(zip.require("data/1"));
  ASSERT_EQ(half.size(), 12u);
  const unsigned char* h = reinterpret_cast<const unsigned char*>(half.data());
  for (int i : {0, 1, 4}) EXPECT_EQ(h[2 * i] | h[2 * i + 1], 0) << "element " << i;
  EXPECT_EQ(h[2 * 2] | (h[2 * 2 + 1] << 8), 0x4000);  // 2.0 in float16
}

}  // namespace
}  // namespace fsdpshard::test
