// Assembling a storage from byte segments of several files (src/libtorch/storage_segments.h):
// the path tensors stored in pieces (FSDP rank files, DCP chunks) take once the checkpoint
// model describes storages as segment lists.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fsdpshard/util/error.h"
#include "libtorch/storage_segments.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

using libtorch::ByteSegment;
using libtorch::FileMapping;

class Segments : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string first, second;
    for (int i = 0; i < 200; ++i) first.push_back(static_cast<char>(i));
    for (int i = 0; i < 50; ++i) second.push_back(static_cast<char>(255 - i));
    write_file(dir_.file("a.bin"), first);
    write_file(dir_.file("b.bin"), second);
    files_ = {FileMapping::open(dir_.file("a.bin"), false), FileMapping::open(dir_.file("b.bin"), false)};
  }
  std::string assemble(const std::vector<ByteSegment>& segments, uint64_t nbytes) const {
    std::string out(nbytes, '\0');
    libtorch::copy_segments(segments, nbytes, [this](uint32_t i) -> const FileMapping& { return *files_.at(i); },
                            out.data(), "storage 'x'");
    return out;
  }
  TempDir dir_;
  std::vector<std::shared_ptr<const FileMapping>> files_;
};

TEST_F(Segments, PiecesOfSeveralFilesInAnyOrderLandAtTheirPlacement) {
  // placement 20..29 from a.bin@100, 0..19 from b.bin@0, 30..34 from a.bin@5
  const std::string got = assemble({{0, 100, 10, 20}, {1, 0, 20, 0}, {0, 5, 5, 30}}, 35);
  std::string want;
  for (int i = 0; i < 20; ++i) want.push_back(static_cast<char>(255 - i));
  for (int i = 100; i < 110; ++i) want.push_back(static_cast<char>(i));
  for (int i = 5; i < 10; ++i) want.push_back(static_cast<char>(i));
  EXPECT_EQ(got, want);
  EXPECT_EQ(assemble({}, 0), "");
}

TEST_F(Segments, GapsOverlapsAndBytesPastTheFileAreInputErrors) {
  EXPECT_THROW(assemble({{0, 0, 10, 0}, {0, 0, 10, 11}}, 21), InputError);  // gap at 10
  EXPECT_THROW(assemble({{0, 0, 10, 0}, {0, 0, 10, 5}}, 15), InputError);   // overlap
  EXPECT_THROW(assemble({{0, 0, 10, 0}}, 20), InputError);                  // short
  EXPECT_THROW(assemble({{0, 0, 30, 0}}, 20), InputError);                  // past the storage
  EXPECT_THROW(assemble({{1, 40, 20, 0}}, 20), InputError);                 // past b.bin's end
  EXPECT_THROW(assemble({{1, UINT64_MAX, 2, 0}}, 2), InputError);           // offset overflow
  try {
    assemble({{1, 40, 20, 0}}, 20);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir_.file("b.bin")), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fsdpshard::test
