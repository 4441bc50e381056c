// What --force may replace (archive/previous_output.h): a folder is recognised as a
// previous fsdpshard output by its names and shape only when nothing else is in it.
// (Real outputs are recognised end to end in tests/integration/output_safety_test.cpp.)
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "archive/previous_output.h"
#include "support/test_support.h"

namespace fsdpshard {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

// The start of a zip whose first record is `first` (how torch.save files begin).
std::string zip_starting_with(const std::string& first) {
  std::string head = "PK\x03\x04";
  head += std::string(22, '\0');
  head += static_cast<char>(first.size() & 0xff);
  head += static_cast<char>(first.size() >> 8);
  head += std::string(2, '\0');
  return head + first + "payload";
}

bool recognised(const TempDir& dir, const std::vector<std::string>& files, std::string* why = nullptr) {
  for (const std::string& name : files) {
    const bool rank_file = name.rfind("checkpoint.th", 0) == 0;
    test::write_file(dir.file(name), rank_file ? zip_starting_with("checkpoint/data.pkl") : "x");
  }
  std::string why_not;
  const bool ok = archive::previous_output_files(dir.path(), why_not).has_value();
  if (why) *why = why_not;
  return ok;
}

TEST(PreviousOutput, ShardSetsAndRankFilesAreRecognised) {
  TempDir empty, torch, st, ranks, one;
  EXPECT_TRUE(recognised(empty, {}));
  EXPECT_TRUE(recognised(torch, {"pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin",
                                 "pytorch_model-00002-of-00002.bin", "config.yaml"}));
  EXPECT_TRUE(recognised(st, {"model.safetensors.index.json", "model-00001-of-00001.safetensors"}));
  EXPECT_TRUE(recognised(ranks, {"checkpoint.th", "checkpoint.th.1", "checkpoint.th.2"}));
  EXPECT_TRUE(recognised(one, {"checkpoint.th"}));
  std::string why_not;
  const auto files = archive::previous_output_files(ranks.path(), why_not);
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(*files, (std::vector<std::string>{"checkpoint.th", "checkpoint.th.1", "checkpoint.th.2"}));
}

TEST(PreviousOutput, AnythingElseIsNot) {
  std::string why;
  {
    TempDir d;  // a note beside a shard set
    EXPECT_FALSE(recognised(d, {"pytorch_model.bin.index.json", "pytorch_model-00001-of-00001.bin", "notes.txt"}, &why));
    EXPECT_NE(why.find("notes.txt"), std::string::npos) << why;
  }
  {
    TempDir d;  // a shard missing
    EXPECT_FALSE(recognised(d, {"pytorch_model.bin.index.json", "pytorch_model-00002-of-00002.bin"}));
  }
  {
    TempDir d;  // shards without an index, or of two counts, or of the other format
    EXPECT_FALSE(recognised(d, {"pytorch_model-00001-of-00001.bin"}));
  }
  {
    TempDir d;
    EXPECT_FALSE(recognised(d, {"pytorch_model.bin.index.json", "pytorch_model-00001-of-00001.bin",
                                "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"}));
  }
  {
    TempDir d;
    EXPECT_FALSE(recognised(d, {"model.safetensors.index.json", "pytorch_model-00001-of-00001.bin"}));
  }
  {
    TempDir d;  // rank files with a gap
    EXPECT_FALSE(recognised(d, {"checkpoint.th", "checkpoint.th.2"}));
  }
  {
    TempDir d;  // a lone file that is no torch.save archive: a plain zip, a text file
    test::write_file(d.file("photos.zip"), zip_starting_with("IMG_0001.jpg"));
    EXPECT_FALSE(recognised(d, {}));
  }
  {
    TempDir d;
    EXPECT_FALSE(recognised(d, {"notes.txt"}, &why));
  }
  {
    TempDir d;  // a sub-folder or a link is never ours
    fs::create_directory(d.file("logs"));
    EXPECT_FALSE(recognised(d, {"checkpoint.th"}, &why));
    EXPECT_NE(why.find("logs"), std::string::npos) << why;
  }
  {
    TempDir d;
    fs::create_symlink("/etc/hostname", d.file("config.yaml"));
    EXPECT_FALSE(recognised(d, {"model.safetensors.index.json", "model-00001-of-00001.safetensors"}));
  }
}

}  // namespace
}  // namespace fsdpshard
