// ZipReader / ZipWriter against real torch.save files and Python's zipfile, plus
// hostile archives: every malformed input must end in an InputError, never a crash.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "fsdpshard/archive/crc32.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/zip_reader.h"
#include "fsdpshard/archive/zip_writer.h"
#include "support/test_support.h"

namespace fsdpshard {
namespace {

using test::TempDir;

// Runs tests/python/archive_torch.py; fails the test on a non-zero exit.
std::string torch_helper(const std::vector<std::string>& args) {
  const test::CommandResult r = test::run_python("archive_torch.py", args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

int open_out(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  return fd;
}

// Copies every record of `reader` into a new archive at `out`, streaming in small pieces.
void copy_archive(const ZipReader& reader, const std::string& out, const std::string& root,
                  ZipWriterOptions options = {}) {
  const int fd = open_out(out);
  ZipWriter writer(fd, root, options);
  std::vector<char> piece(7);  // odd size: many appends per record
  for (const ZipRecord& record : reader.records()) {
    writer.begin(record.name, record.size);
    for (uint64_t done = 0; done < record.size;) {
      const std::size_t n = std::min<uint64_t>(piece.size(), record.size - done);
      reader.read_at(record, done, piece.data(), n);
      writer.append(piece.data(), n);
      done += n;
    }
    writer.end();
  }
  writer.finish();
  EXPECT_EQ(writer.bytes_written(), static_cast<uint64_t>(::lseek(fd, 0, SEEK_END)));
  ::close(fd);
}

// The reader's view must equal Python zipfile's, record for record.
void expect_matches_zipfile(const ZipReader& reader) {
  const auto python = nlohmann::json::parse(torch_helper({"zipinfo", reader.path()}));
  ASSERT_EQ(python.size(), reader.records().size());
  for (std::size_t i = 0; i < python.size(); ++i) {
    const ZipRecord& r = reader.records()[i];
    const auto& p = python[i];
    EXPECT_EQ(reader.root() + "/" + r.name, p["name"].get<std::string>());
    EXPECT_EQ(r.data_offset, p["data_offset"].get<uint64_t>()) << r.name;
    EXPECT_EQ(r.size, p["size"].get<uint64_t>()) << r.name;
    EXPECT_EQ(r.compressed_size, p["compress_size"].get<uint64_t>()) << r.name;
    EXPECT_EQ(r.crc32, p["crc"].get<uint32_t>()) << r.name;
    EXPECT_EQ(r.method, p["method"].get<uint16_t>()) << r.name;
  }
}

void expect_python_accepts(const std::string& path) {
  const auto check = nlohmann::json::parse(torch_helper({"check", path}));
  EXPECT_TRUE(check["testzip"].is_null()) << check.dump();
  EXPECT_TRUE(check["aligned"].get<bool>()) << check.dump();
}

void expect_unzip_accepts(const std::string& path) {
  const test::CommandResult r = test::run({"unzip", "-tq", path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

std::string error_of(const std::string& path) {
  try {
    ZipReader reader(path);
    for (const ZipRecord& r : reader.records()) {
      if (r.size < (1u << 20)) reader.read(r);
    }
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Offset of the n-th occurrence of a 4-byte little-endian signature.
std::size_t find_signature(const std::string& bytes, uint32_t signature, int nth = 0) {
  char sig[4];
  for (int i = 0; i < 4; ++i) sig[i] = static_cast<char>(signature >> (8 * i));
  std::size_t pos = 0;
  for (int seen = 0;; ++seen, ++pos) {
    pos = bytes.find(std::string(sig, 4), pos);
    if (pos == std::string::npos || seen == nth) return pos;
  }
}

void poke32(std::string& bytes, std::size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(value >> (8 * i));
}
void poke16(std::string& bytes, std::size_t at, uint16_t value) {
  for (int i = 0; i < 2; ++i) bytes[at + i] = static_cast<char>(value >> (8 * i));
}

// A small archive written by our writer: root "ab", three records.
std::string small_archive(const TempDir& dir, ZipWriterOptions options = {}) {
  const std::string path = dir.file("small.zip");
  const int fd = open_out(path);
  ZipWriter writer(fd, "ab", options);
  writer.add("data.pkl", std::string("pickle-bytes"));
  writer.add("data/0", std::string(1000, 'x'));
  writer.add("version", std::string("3\n"));
  writer.finish();
  ::close(fd);
  return test::read_file(path);
}

TEST(ZipReader, ReadsTorchSaveFile) {
  TempDir dir;
  const std::string path = dir.file("weird.name.th");
  torch_helper({"save", path});
  ZipReader reader(path);
  EXPECT_EQ(reader.root(), "weird.name");
  EXPECT_EQ(reader.records().front().name, "data.pkl");
  ASSERT_NE(reader.find("version"), nullptr);
  EXPECT_EQ(reader.read(reader.require("version")), "3\n");
  EXPECT_EQ(reader.find("no/such"), nullptr);
  EXPECT_THROW(reader.require("no/such"), InputError);
  for (const ZipRecord& r : reader.records()) {
    EXPECT_EQ(r.data_offset % 64, 0u) << r.name;
    EXPECT_EQ(reader.compute_crc(r), r.crc32) << r.name;
  }
  expect_matches_zipfile(reader);
  // The pickle starts with PROTO 2.
  const std::string pickle = reader.read(reader.require("data.pkl"));
  ASSERT_GE(pickle.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(pickle[0]), 0x80);
}

TEST(ZipReader, BytesIoArchiveHasRootArchive) {
  TempDir dir;
  const std::string path = dir.file("from_stream.pt");
  torch_helper({"save_bytesio", path});
  ZipReader reader(path);
  EXPECT_EQ(reader.root(), "archive");
  expect_matches_zipfile(reader);
}

TEST(ZipReader, ReadAtChecksRange) {
  TempDir dir;
  const std::string path = dir.file("x.pt");
  torch_helper({"save", path});
  ZipReader reader(path);
  const ZipRecord& version = reader.require("version");
  char buf[4];
  reader.read_at(version, 1, buf, 1);
  EXPECT_EQ(buf[0], '\n');
  EXPECT_THROW(reader.read_at(version, 1, buf, 2), InputError);
  EXPECT_THROW(reader.read_at(version, UINT64_MAX, buf, 2), InputError);
  ZipReader moved = std::move(reader);
  EXPECT_EQ(moved.read(moved.require("version")), "3\n");
}

TEST(ZipReader, DeflatedRecord) {
  TempDir dir;
  const std::string path = dir.file("deflated.zip");
  const auto r = test::run({test::python(), "-c",
                            "import zipfile,sys\n"
                            "with zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:\n"
                            "  z.writestr('root/data.pkl', b'abc'*1000)\n"
                            "  z.writestr('root/version', b'3\\n')\n",
                            path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ZipReader reader(path);
  const ZipRecord& pkl = reader.require("data.pkl");
  EXPECT_EQ(pkl.method, 8);
  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += "abc";
  EXPECT_EQ(reader.read(pkl), expected);
  EXPECT_EQ(reader.compute_crc(pkl), pkl.crc32);
  char c;
  EXPECT_THROW(reader.read_at(pkl, 0, &c, 1), InputError);
}

TEST(ZipWriter, CopyOfTorchFileLoadsEqual) {
  TempDir dir;
  const std::string original = dir.file("model.th");
  torch_helper({"save", original});
  ZipReader reader(original);
  const std::string copy = dir.file("copy.pt");
  copy_archive(reader, copy, "some_other_root");
  ZipReader again(copy);
  EXPECT_EQ(again.root(), "some_other_root");
  ASSERT_EQ(again.records().size(), reader.records().size());
  for (std::size_t i = 0; i < again.records().size(); ++i) {
    EXPECT_EQ(again.records()[i].name, reader.records()[i].name);
    EXPECT_EQ(again.records()[i].crc32, reader.records()[i].crc32);
    EXPECT_EQ(again.records()[i].data_offset % 64, 0u);
  }
  expect_matches_zipfile(again);
  expect_python_accepts(copy);
  expect_unzip_accepts(copy);
  EXPECT_EQ(torch_helper({"compare", original, copy}), "equal\n");
}

TEST(ZipWriter, LoweredZip64ThresholdStillReadable) {
  TempDir dir;
  const std::string original = dir.file("model.th");
  torch_helper({"save", original});
  ZipReader reader(original);
  const std::string copy = dir.file("zip64.pt");
  ZipWriterOptions options;
  options.zip64_threshold = 40;  // most sizes and offsets go through zip64 fields
  copy_archive(reader, copy, "archive", options);
  ZipReader again(copy);
  expect_matches_zipfile(again);
  for (const ZipRecord& r : again.records()) EXPECT_EQ(again.compute_crc(r), r.crc32);
  expect_python_accepts(copy);
  expect_unzip_accepts(copy);
  EXPECT_EQ(torch_helper({"compare", original, copy}), "equal\n");
}

TEST(ZipWriter, TorchRecordSetAndByteorder) {
  // The record set the checkpoint layer writes (docs/FORMATS.md §1), from a hand-made pickle.
  TempDir dir;
  const std::string pkl_path = dir.file("pkl");
  torch_helper({"big_pickle", pkl_path, "300"});
  const std::string path = dir.file("small_big.pt");
  const int fd = open_out(path);
  ZipWriter writer(fd, "archive");
  writer.add("data.pkl", test::read_file(pkl_path));
  writer.add("byteorder", std::string("little"));
  std::string bytes(300, '\0');
  for (int i = 0; i < 300; ++i) bytes[i] = static_cast<char>(i % 251);
  writer.begin("data/0", bytes.size());
  writer.append(bytes.data(), 100);
  writer.append(bytes.data() + 100, 200);
  writer.end();
  writer.add("version", std::string("3\n"));
  writer.finish();
  ::close(fd);
  expect_python_accepts(path);
  expect_unzip_accepts(path);
  EXPECT_EQ(torch_helper({"big_check", path, "300"}), "big ok\n");
}

TEST(ZipWriter, RefusesMisuse) {
  TempDir dir;
  const int fd = open_out(dir.file("x.zip"));
  ZipWriter writer(fd, "archive");
  EXPECT_THROW(writer.add("constants.pkl", std::string("x")), InputError);
  {
    // The alignment record must say what the records really use (64 unless told).
    ZipWriter other(fd, "archive");
    EXPECT_THROW(other.add(".storage_alignment", std::string("4096")), InputError);
  }
  writer.begin("data/0", 4);
  EXPECT_THROW(writer.append("12345", 5), std::logic_error);
  writer.append("12", 2);
  EXPECT_THROW(writer.end(), std::logic_error);
  writer.append("34", 2);
  writer.end();
  EXPECT_THROW(writer.add("data/0", std::string("dup")), std::logic_error);
  EXPECT_THROW(ZipWriter(fd, "a/b"), std::invalid_argument);
  ::close(fd);
}

// torch 2.15 archives (the committed goldens: '.format_version', '.storage_alignment',
// '.data/serialization_id') copied record by record come out with miniz's layout: every
// local header and every record's data at the offset torch put it, so torch.load's
// computed storage offsets (calculate_storage_offsets, meta loads) stay right.
TEST(ZipWriter, CopyOfATorch2ArchiveKeepsEveryOffsetTorchWrote) {
  TempDir dir;
  for (const char* golden : {"training/checkpoint.th", "fsdp/checkpoint.th", "exported/state_dict.bin",
                             "new_dtypes.pt"}) {
    SCOPED_TRACE(golden);
    const ZipReader original(test::source_dir() + "/tests/fixtures/golden/" + golden);
    ASSERT_NE(original.find(".format_version"), nullptr);
    const std::string out = dir.file("copy.pt");
    copy_archive(original, out, original.root());
    const ZipReader copy(out);
    ASSERT_EQ(copy.records().size(), original.records().size());
    for (std::size_t i = 0; i < copy.records().size(); ++i) {
      const ZipRecord& a = original.records()[i];
      const ZipRecord& b = copy.records()[i];
      EXPECT_EQ(b.name, a.name);
      EXPECT_EQ(b.data_offset, a.data_offset) << a.name;
      EXPECT_EQ(b.crc32, a.crc32) << a.name;
      EXPECT_EQ(copy.read(b), original.read(a)) << a.name;
    }
    EXPECT_EQ(copy.file_size(), original.file_size());
  }
}

// Another '.storage_alignment' (torch.utils.serialization.config.save.storage_alignment)
// is kept with the records aligned to it.
TEST(ZipWriter, WritesTheAlignmentItIsGiven) {
  TempDir dir;
  const std::string path = dir.file("a.pt");
  const int fd = open_out(path);
  ZipWriterOptions options;
  options.alignment = 4096;
  ZipWriter writer(fd, "archive", options);
  writer.add("data.pkl", std::string("x"));
  writer.add(".storage_alignment", std::string("4096"));
  writer.add("data/0", std::string(100, 'a'));
  writer.add("data/1", std::string());
  writer.finish();
  ::close(fd);
  const ZipReader reader(path);
  for (const ZipRecord& record : reader.records()) EXPECT_EQ(record.data_offset % 4096, 0u) << record.name;
  options.alignment = 0;
  EXPECT_THROW(ZipWriter(fd, "archive", options), std::invalid_argument);
  options.alignment = kMaxAlignment + 1;
  EXPECT_THROW(ZipWriter(fd, "archive", options), std::invalid_argument);
}

// Records copied unchanged come by the kernel (copy_file_range) with the CRC the input
// states; across file systems (/dev/shm is tmpfs) the copy falls back to read + write.
TEST(ZipWriter, AppendFromFileCopiesBytesAndKeepsTheGivenCrc) {
  TempDir dir;
  const std::string input = dir.file("input.bin");
  std::string bytes(3u << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : bytes) c = static_cast<char>(rng());
  test::write_file(input, bytes);
  const uint32_t crc = crc32_update(0, bytes.data() + 4096, bytes.size() - 4096);
  std::vector<std::string> outputs{dir.file("same_fs.pt")};  // next to the input
  char shm_template[] = "/dev/shm/fsdpshard-test-XXXXXX";
  const bool have_shm = ::mkdtemp(shm_template) != nullptr;
  if (have_shm) outputs.push_back(std::string(shm_template) + "/other_fs.pt");
  const int in_fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(in_fd, 0);
  for (const std::string& out : outputs) {
    SCOPED_TRACE(out);
    const int fd = open_out(out);
    {
      ZipWriter writer(fd, "archive");
      writer.add("small", std::string("header bytes stay in order"));
      writer.begin("data/0", bytes.size() - 4096, crc);
      writer.append_from_file(in_fd, 4096, 1u << 20, input);
      writer.append(bytes.data() + 4096 + (1u << 20), 4096);  // pieces of both kinds mix
      writer.append_from_file(in_fd, 4096 + (1u << 20) + 4096, bytes.size() - 4096 - (1u << 20) - 4096, input);
      writer.end();
      writer.finish();
    }
    ::close(fd);
    ZipReader reader(out);
    const ZipRecord& record = reader.require("data/0");
    EXPECT_EQ(record.crc32, crc);
    EXPECT_EQ(reader.compute_crc(record), crc);
    EXPECT_EQ(reader.read(record), bytes.substr(4096));
    EXPECT_EQ(reader.read(reader.require("small")), "header bytes stay in order");
    expect_matches_zipfile(reader);
  }
  // An input that ends before the copy does is named as truncated.
  const int fd = open_out(dir.file("short.pt"));
  ZipWriter writer(fd, "archive");
  writer.begin("data/0", 8192, 0);
  try {
    writer.append_from_file(in_fd, bytes.size() - 4096, 8192, input);
    ADD_FAILURE() << "copying past the input's end succeeded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(input + ": truncated while reading"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ZipWriter(fd, "archive").append_from_file(in_fd, 0, 1, input), std::logic_error);  // no record
  ::close(fd);
  ::close(in_fd);
  if (have_shm) std::filesystem::remove_all(shm_template);
}

TEST(ZipWriter, FullDiskIsRuntimeFailure) {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /dev/full";
  ZipWriterOptions options;
  options.label = "out.pt";
  {
    ZipWriter writer(fd, "archive", options);
    writer.add("small", std::string("tiny"));  // buffered: fails at finish
    try {
      writer.finish();
      ADD_FAILURE() << "finish on /dev/full succeeded";
    } catch (const RuntimeFailure& e) {
      EXPECT_NE(std::string(e.what()).find("writing out.pt: no space left on device"),
                std::string::npos)
          << e.what();
    }
  }
  {
    ZipWriter writer(fd, "archive", options);
    std::vector<char> big(8u << 20, 'a');  // large pieces bypass the buffer
    writer.begin("big", big.size());
    EXPECT_THROW(writer.append(big.data(), big.size()), RuntimeFailure);
  }
  {
    TempDir dir;
    const std::string input = dir.file("in.bin");
    test::write_file(input, std::string(1u << 20, 'b'));
    const int in_fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
    ZipWriter writer(fd, "archive", options);
    writer.begin("copied", 1u << 20, 0);
    try {
      writer.append_from_file(in_fd, 0, 1u << 20, input);
      ADD_FAILURE() << "copy to /dev/full succeeded";
    } catch (const RuntimeFailure& e) {
      EXPECT_NE(std::string(e.what()).find("writing out.pt: no space left on device"), std::string::npos)
          << e.what();
    }
    ::close(in_fd);
  }
  ::close(fd);
}

// A >4 GiB record in a real file: zip64 sizes, offsets past 4 GiB and a zip64 directory.
TEST(ZipWriter, RealZip64Over4GiB) {
  if (std::getenv("FSDPSHARD_SKIP_BIG_TESTS")) GTEST_SKIP() << "FSDPSHARD_SKIP_BIG_TESTS is set";
  TempDir dir;
  struct statvfs fs {};
  if (statvfs(dir.path().c_str(), &fs) == 0 &&
      static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < (10ull << 30)) {
    GTEST_SKIP() << "needs 10 GB free in " << dir.path();
  }
  const uint64_t n = (1ull << 32) + 300'000'123ull;  // ~4.6 GB
  const std::string pkl_path = dir.file("pkl");
  torch_helper({"big_pickle", pkl_path, std::to_string(n)});
  const std::string path = dir.file("big.pt");
  const int fd = open_out(path);
  ZipWriter writer(fd, "big");
  writer.add("data.pkl", test::read_file(pkl_path));
  writer.add("byteorder", std::string("little"));
  writer.begin("data/0", n);
  // Byte i of the record is i % 251; a chunk starting at `done` is a window of this.
  const std::size_t chunk = 16u << 20;
  std::vector<char> pattern(chunk + 251);
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<char>(i % 251);
  uint32_t crc_by_parts = 0;
  for (uint64_t done = 0; done < n;) {
    const std::size_t len = std::min<uint64_t>(chunk, n - done);
    const char* piece = pattern.data() + done % 251;
    writer.append(piece, len);
    crc_by_parts = crc32_combine(crc_by_parts, crc32_update(0, piece, len), len);
    done += len;
  }
  writer.end();
  writer.add("version", std::string("3\n"));
  writer.finish();
  ::close(fd);

  ZipReader reader(path);
  const ZipRecord& big = reader.require("data/0");
  EXPECT_EQ(big.size, n);
  EXPECT_EQ(big.crc32, crc_by_parts);
  EXPECT_GT(reader.require("version").data_offset, 1ull << 32);
  EXPECT_EQ(reader.compute_crc(big), big.crc32);
  expect_matches_zipfile(reader);
  expect_unzip_accepts(path);
  EXPECT_EQ(torch_helper({"big_check", path, std::to_string(n)}), "big ok\n");
}

TEST(ZipReader, NotAZip) {
  TempDir dir;
  test::write_file(dir.file("text"), "hello, this is not a checkpoint at all");
  EXPECT_EQ(error_of(dir.file("text")),
            dir.file("text") + ": not a zip archive (torch.save files start with PK\\x03\\x04)");
  test::write_file(dir.file("empty"), "");
  EXPECT_NE(error_of(dir.file("empty")).find("not a zip archive"), std::string::npos);
  EXPECT_THROW(ZipReader(dir.file("missing")), InputError);
}

TEST(ZipReader, TruncatedAtManyPoints) {
  TempDir dir;
  const std::string full = small_archive(dir);
  for (std::size_t cut : {std::size_t{4}, std::size_t{30}, std::size_t{100}, full.size() / 2,
                          full.size() - 100, full.size() - 60, full.size() - 23,
                          full.size() - 22, full.size() - 1}) {
    const std::string path = dir.file("cut");
    test::write_file(path, full.substr(0, cut));
    const std::string error = error_of(path);
    EXPECT_EQ(error.rfind(path + ": truncated", 0), 0u) << "cut at " << cut << ": " << error;
  }
}

TEST(ZipReader, CentralDirectoryLies) {
  TempDir dir;
  const std::string good = small_archive(dir);
  const std::size_t cd = find_signature(good, 0x02014b50, 1);  // entry for data/0
  const std::size_t eocd = find_signature(good, 0x06054b50);
  const std::size_t z64 = find_signature(good, 0x06064b50);
  ASSERT_NE(cd, std::string::npos);
  const std::string path = dir.file("bad.zip");
  auto error_with = [&](auto edit) {
    std::string bytes = good;
    edit(bytes);
    test::write_file(path, bytes);
    return error_of(path);
  };
  auto contains = [](const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
  };
  // Sizes running into the central directory.
  std::string e = error_with([&](std::string& b) {
    poke32(b, cd + 20, 5000);
    poke32(b, cd + 24, 5000);
  });
  EXPECT_TRUE(contains(e, "record 'data/0': data")) << e;
  // Stored record whose two sizes disagree.
  e = error_with([&](std::string& b) { poke32(b, cd + 24, 999); });
  EXPECT_TRUE(contains(e, "record 'data/0'")) << e;
  // Local header offset beyond the file, then into the middle of data.
  e = error_with([&](std::string& b) { poke32(b, cd + 42, 0x7FFFFFF0); });
  EXPECT_TRUE(contains(e, "record 'data/0': local header")) << e;
  e = error_with([&](std::string& b) { poke32(b, cd + 42, 200); });
  EXPECT_TRUE(contains(e, "record 'data/0'")) << e;
  // zip64 markers without a zip64 extra.
  e = error_with([&](std::string& b) { poke32(b, cd + 24, 0xFFFFFFFF); });
  EXPECT_TRUE(contains(e, "zip64 extra")) << e;
  // Entry counts that disagree with the directory's size, or are absurd.
  e = error_with([&](std::string& b) {
    b[z64 + 24] = 2;
    b[z64 + 32] = 2;
  });
  EXPECT_TRUE(contains(e, "2 entries use")) << e;
  e = error_with([&](std::string& b) {
    poke32(b, z64 + 28, 0x10000);
    poke32(b, z64 + 36, 0x10000);
  });
  EXPECT_TRUE(contains(e, "cannot fit")) << e;
  // Directory offset pointing past the end / into the end records.
  e = error_with([&](std::string& b) { poke32(b, z64 + 52, 0x100); });
  EXPECT_TRUE(contains(e, "truncated")) << e;
  e = error_with([&](std::string& b) { b[z64 + 48] = static_cast<char>(b[z64 + 48] + 8); });
  EXPECT_TRUE(contains(e, "overlaps the end records") || contains(e, "signature")) << e;
  // Locator pointing nowhere.
  e = error_with([&](std::string& b) { b[eocd - 12] = static_cast<char>(b[eocd - 12] + 1); });
  EXPECT_TRUE(contains(e, "zip64")) << e;
  // A record outside the root folder (same length name: "ac/" instead of "ab/").
  e = error_with([&](std::string& b) {
    b[cd + 46 + 1] = 'c';
    const std::size_t local = find_signature(b, 0x04034b50, 1);
    b[local + 30 + 1] = 'c';
  });
  EXPECT_TRUE(contains(e, "outside the root folder 'ab'")) << e;
  // Central and local header naming different records.
  e = error_with([&](std::string& b) { b[cd + 46 + 8] = 'x'; });  // "ab/data/0" -> "ab/data/x"
  EXPECT_TRUE(contains(e, "local header names a different record")) << e;
  // Compressed with an unknown method, encrypted.
  e = error_with([&](std::string& b) { poke16(b, cd + 10, 12); });
  EXPECT_TRUE(contains(e, "compression method 12")) << e;
  e = error_with([&](std::string& b) { poke16(b, cd + 8, 1); });
  EXPECT_TRUE(contains(e, "encrypted")) << e;
}

TEST(ZipReader, DuplicateNamesAndMissingRoot) {
  TempDir dir;
  const std::string path = dir.file("dup.zip");
  auto r = test::run({test::python(), "-c",
                      "import zipfile,sys,warnings\nwarnings.simplefilter('ignore')\n"
                      "with zipfile.ZipFile(sys.argv[1],'w') as z:\n"
                      "  z.writestr('r/a', b'1')\n  z.writestr('r/a', b'2')\n",
                      path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(error_of(path).find("record 'a': appears twice"), std::string::npos) << error_of(path);
  r = test::run({test::python(), "-c",
                 "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n"
                 "  z.writestr('noroot', b'1')\n",
                 path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(error_of(path).find("not inside a root folder"), std::string::npos) << error_of(path);
}

// Random damage anywhere in an archive must give an InputError or a readable archive —
// never a crash, a hang or another kind of exception.
TEST(ZipReader, RandomCorruptionNeverCrashes) {
  TempDir dir;
  ZipWriterOptions zip64;
  zip64.zip64_threshold = 10;  // exercises the zip64 extra fields too
  const std::string variants[2] = {small_archive(dir), small_archive(dir, zip64)};
  const std::string path = dir.file("fuzz.zip");
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string bytes = variants[round % 2];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      // Bias towards the headers at the end, where the interesting fields are.
      const std::size_t at = (rng() % 2) ? rng() % bytes.size()
                                         : bytes.size() - 1 - rng() % std::min<std::size_t>(220, bytes.size());
      bytes[at] = static_cast<char>(rng());
    }
    if (rng() % 8 == 0) bytes.resize(rng() % bytes.size());
    test::write_file(path, bytes);
    try {
      ZipReader reader(path);
      for (const ZipRecord& r : reader.records()) {
        if (r.size <= (1u << 20)) reader.compute_crc(r);
      }
    } catch (const InputError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 100);
}

TEST(Crc32, CombineMatchesWholeCrc) {
  std::mt19937 rng(7);
  std::vector<unsigned char> data(1 << 20);
  for (auto& c : data) c = static_cast<unsigned char>(rng());
  const uint32_t whole = crc32_update(0, data.data(), data.size());
  EXPECT_EQ(whole, crc32_update(crc32_update(0, data.data(), 1000), data.data() + 1000,
                                data.size() - 1000));
  for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, data.size() / 2,
                            data.size() - 1, data.size()}) {
    const uint32_t a = crc32_update(0, data.data(), split);
    const uint32_t b = crc32_update(0, data.data() + split, data.size() - split);
    EXPECT_EQ(crc32_combine(a, b, data.size() - split), whole) << split;
  }
  // Known value: CRC-32 of "123456789".
  EXPECT_EQ(crc32_update(0, "123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32_combine(crc32_update(0, "1234", 4), crc32_update(0, "56789", 5), 5),
            0xCBF43926u);
}

}  // namespace
}  // namespace fsdpshard
