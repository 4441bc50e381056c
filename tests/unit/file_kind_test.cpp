// The one description of a non-regular path (archive/file_kind.h) that input and output
// messages share: "IN: is a FIFO (named pipe), not a regular file", "-o OUT is a socket; ...".
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>

#include "archive/file_kind.h"

namespace fsdpshard {
namespace {

TEST(FileKind, EveryNodeTypeInTheWordsMessagesUse) {
  EXPECT_EQ(std::string(archive::file_kind(S_IFCHR | 0666)), "a character device");
  EXPECT_EQ(std::string(archive::file_kind(S_IFBLK | 0660)), "a block device");
  EXPECT_EQ(std::string(archive::file_kind(S_IFIFO | 0600)), "a FIFO (named pipe)");
  EXPECT_EQ(std::string(archive::file_kind(S_IFSOCK | 0755)), "a socket");
  EXPECT_EQ(std::string(archive::file_kind(S_IFDIR | 0755)), "a folder");
  EXPECT_EQ(std::string(archive::file_kind(S_IFLNK | 0777)), "a symbolic link");
  EXPECT_EQ(std::string(archive::file_kind(S_IFREG | 0644)), "a file");
  EXPECT_EQ(std::string(archive::file_kind(0)), "an unknown kind of file");
}

}  // namespace
}  // namespace fsdpshard
