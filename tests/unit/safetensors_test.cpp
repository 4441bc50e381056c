// safetensors reader and writer, cross-checked with a plain-Python implementation
// (tests/python/archive_safetensors.py), and hostile headers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fsdpshard/util/error.h"
#include "fsdpshard/archive/safetensors.h"
#include "support/test_support.h"

namespace fsdpshard {
namespace {

using test::TempDir;

std::string le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

// A file made of a length prefix, `header` and `buffer`.
std::string make_file(const TempDir& dir, const std::string& header, const std::string& buffer,
                      uint64_t claimed_length = UINT64_MAX) {
  const std::string path = dir.file("t.safetensors");
  test::write_file(path, le64(claimed_length == UINT64_MAX ? header.size() : claimed_length) +
                             header + buffer);
  return path;
}

std::string error_of(const std::string& path) {
  try {
    SafetensorsReader reader(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

struct Tensor {
  SafetensorsTensorSpec spec;
  std::string bytes;
};

std::vector<Tensor> sample_tensors() {
  std::vector<Tensor> t;
  t.push_back({{"zeta.weight", DType::Float32, {2, 3}, 24}, std::string(24, '\x11')});
  t.push_back({{"alpha.bias", DType::BFloat16, {3}, 6}, std::string("\x80\x3f\x00\x40\x40\x40", 6)});
  t.push_back({{"empty", DType::Float16, {0, 5}, 0}, ""});
  t.push_back({{"scalar", DType::Int64, {}, 8}, le64(42)});
  t.push_back({{"mask", DType::Bool, {5}, 5}, std::string("\x01\x00\x01\x01\x00", 5)});
  t.push_back({{"name \"quoted\" ü", DType::UInt8, {1}, 1}, "z"});
  return t;
}

void write_sample(const std::string& path, const std::vector<Tensor>& tensors,
                  const SafetensorsMetadata& metadata) {
  std::vector<SafetensorsTensorSpec> specs;
  for (const Tensor& t : tensors) specs.push_back(t.spec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  SafetensorsWriter writer(fd, specs, metadata);
  EXPECT_EQ(writer.data_start() % 8, 0u);
  for (const Tensor& t : tensors) {
    writer.begin(t.spec.name);
    // Stream in two pieces where there are two.
    const std::size_t half = t.bytes.size() / 2;
    writer.append(t.bytes.data(), half);
    writer.append(t.bytes.data() + half, t.bytes.size() - half);
    writer.end();
  }
  writer.finish();
  ::close(fd);
}

TEST(Safetensors, RoundTripCheckedByPython) {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  const auto tensors = sample_tensors();
  const SafetensorsMetadata metadata{{"format", "pt"}, {"b_key", "v"}, {"a_key", "w"}};
  write_sample(path, tensors, metadata);

  // Raw layout: metadata first, header padded with spaces to a multiple of 8.
  const std::string raw = test::read_file(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(raw[i]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(raw.substr(8, 16), "{\"__metadata__\":");

  const test::CommandResult r = test::run_python("archive_safetensors.py", {"read", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto py = nlohmann::json::parse(r.out);
  EXPECT_EQ(py["order"][0], "__metadata__");
  EXPECT_EQ(py["metadata"]["format"], "pt");

  SafetensorsReader reader(path);
  EXPECT_EQ(reader.header_size(), n);
  EXPECT_EQ(reader.metadata(), (SafetensorsMetadata{{"a_key", "w"}, {"b_key", "v"}, {"format", "pt"}}));
  ASSERT_EQ(reader.entries().size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const SafetensorsEntry& e = reader.entries()[i];
    EXPECT_EQ(e.name, tensors[i].spec.name);
    EXPECT_EQ(py["order"][i + 1], e.name);
    EXPECT_EQ(e.dtype, tensors[i].spec.dtype);
    EXPECT_EQ(e.shape, tensors[i].spec.shape);
    EXPECT_EQ(e.nbytes, tensors[i].bytes.size());
    const auto& p = py["tensors"][e.name];
    EXPECT_EQ(p["shape"].get<std::vector<uint64_t>>(), e.shape);
    EXPECT_EQ(p["data_offsets"][0].get<uint64_t>() + 8 + n, e.data_offset);
    std::string back(e.nbytes, '\0');
    reader.read_at(e, 0, back.data(), back.size());
    EXPECT_EQ(back, tensors[i].bytes);
  }
  ASSERT_NE(reader.find("scalar"), nullptr);
  char c;
  EXPECT_THROW(reader.read_at(*reader.find("scalar"), 8, &c, 1), InputError);
  EXPECT_EQ(reader.find("nope"), nullptr);
}

TEST(Safetensors, ReadsPythonWrittenFileInHeaderOrder) {
  TempDir dir;
  const std::string path = dir.file("py.safetensors");
  const test::CommandResult w = test::run_python("archive_safetensors.py", {"write", path});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  SafetensorsReader reader(path);
  std::vector<std::string> names;
  for (const auto& e : reader.entries()) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"zeta", "alpha", "mid.bf16", "empty", "scalar"}));
  EXPECT_EQ(reader.metadata(),
            (SafetensorsMetadata{{"format", "pt"}, {"note", "written by python"}}));
  const SafetensorsEntry& alpha = *reader.find("alpha");
  EXPECT_EQ(alpha.dtype, DType::Int64);
  int64_t value = 0;
  reader.read_at(alpha, 0, &value, 8);
  EXPECT_EQ(value, -5);
  EXPECT_TRUE(reader.find("scalar")->shape.empty());
}

TEST(Safetensors, NoMetadataWhenEmpty) {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  write_sample(path, sample_tensors(), {});
  EXPECT_EQ(test::read_file(path).find("__metadata__"), std::string::npos);
  EXPECT_TRUE(SafetensorsReader(path).metadata().empty());
}

TEST(Safetensors, HostileHeaders) {
  TempDir dir;
  auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape,
                  uint64_t b, uint64_t e) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":[" + std::to_string(b) + "," + std::to_string(e) + "]}";
  };
  struct Case {
    std::string header;
    std::string buffer;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"not json", "", "not valid JSON"},
      {"[1,2]", "", "JSON object"},
      {"{" + entry("a", "F99", "[1]", 0, 4) + "}", "1234", "unknown dtype 'F99'"},
      {"{" + entry("a", "F32", "[2]", 0, 4) + "}", "1234", "need 8 bytes"},
      {"{" + entry("a", "F32", "[-1]", 0, 4) + "}", "1234", "non-negative"},
      {"{" + entry("a", "F32", "[1.5]", 0, 4) + "}", "1234", "non-negative"},
      {"{" + entry("a", "F32", "[1]", 4, 0) + "}", "1234", "begin <= end"},
      {"{" + entry("a", "U8", "[4294967296,4294967296,4294967296]", 0, 4) + "}", "1234",
       "too many"},
      {"{" + entry("a", "U8", "[2]", 0, 2) + "," + entry("b", "U8", "[2]", 3, 5) + "}", "12345",
       "contiguous"},
      {"{" + entry("a", "U8", "[3]", 0, 3) + "," + entry("b", "U8", "[2]", 2, 4) + "}", "1234",
       "contiguous"},
      {"{" + entry("a", "U8", "[2]", 0, 2) + "}", "1234", "cover 2 bytes but the data buffer has 4"},
      {"{" + entry("a", "U8", "[8]", 0, 8) + "}", "1234", "truncated"},
      {"{" + entry("a", "U8", "[2]", 0, 2) + "," + entry("a", "U8", "[2]", 2, 4) + "}", "1234",
       "tensor 'a' appears twice"},
      {"{\"__metadata__\":{\"k\":1}}", "", "must be a string"},
      {"{\"__metadata__\":[]}", "", "__metadata__ must be an object"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", "1", "needs"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", "1", "[begin, end]"},
      {"{\"a\":7}", "", "expected an object"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", "1", "not valid JSON"},
      {"{\"a\":\"\xff\xfe\"}", "", "not valid JSON"},
  };
  for (const Case& c : cases) {
    const std::string error = error_of(make_file(dir, c.header, c.buffer));
    EXPECT_NE(error.find(c.expect), std::string::npos) << c.header << " -> " << error;
  }
  // Length prefixes that lie, and files too short for one.
  EXPECT_NE(error_of(make_file(dir, "{}", "", 1000)).find("truncated"), std::string::npos);
  EXPECT_NE(error_of(make_file(dir, "{}", "", 200'000'000)).find("100 MB"), std::string::npos);
  EXPECT_NE(error_of(make_file(dir, "{}", "", UINT64_MAX - 3)).find("100 MB"), std::string::npos);
  test::write_file(dir.file("short"), "abc");
  EXPECT_NE(error_of(dir.file("short")).find("truncated"), std::string::npos);
  EXPECT_THROW(SafetensorsReader(dir.file("missing")), InputError);
  // An empty header is a valid file with no tensors.
  EXPECT_EQ(error_of(make_file(dir, "{}", "")), "");
}

TEST(Safetensors, WriterRefusesBadSpecs) {
  TempDir dir;
  const int fd = ::open(dir.file("w").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  using Specs = std::vector<SafetensorsTensorSpec>;
  EXPECT_THROW(SafetensorsWriter(fd, Specs{{"a", DType::Float32, {2}, 4}}, {}), InputError);
  EXPECT_THROW(SafetensorsWriter(fd, Specs{{"a", DType::Complex128, {1}, 16}}, {}), InputError);  // no name
  EXPECT_THROW(SafetensorsWriter(fd, Specs{{"a", DType::UInt8, {1}, 1}, {"a", DType::UInt8, {1}, 1}}, {}),
               InputError);
  EXPECT_THROW(SafetensorsWriter(fd, Specs{{"__metadata__", DType::UInt8, {1}, 1}}, {}), InputError);
  SafetensorsWriter writer(fd, Specs{{"a", DType::UInt8, {2}, 2}, {"b", DType::UInt8, {1}, 1}}, {});
  EXPECT_THROW(writer.begin("b"), std::logic_error);
  writer.begin("a");
  EXPECT_THROW(writer.append("xyz", 3), std::logic_error);
  writer.append("x", 1);
  EXPECT_THROW(writer.end(), std::logic_error);
  writer.append("y", 1);
  writer.end();
  EXPECT_THROW(writer.finish(), std::logic_error);  // "b" missing
  writer.add("b", "z", 1);
  writer.finish();
  ::close(fd);
}

TEST(Safetensors, HeaderOrderPreservedForManyTensors) {
  std::vector<SafetensorsTensorSpec> specs;
  for (int i = 5000; i > 0; --i) specs.push_back({"t" + std::to_string(i), DType::UInt8, {1}, 1});
  const std::string header = make_safetensors_header(specs, {{"format", "pt"}});
  SafetensorsMetadata meta;
  const auto entries = parse_safetensors_header(header, specs.size(), "mem", &meta);
  ASSERT_EQ(entries.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(entries[i].name, specs[i].name);
    EXPECT_EQ(entries[i].data_offset, i);
  }
}

}  // namespace
}  // namespace fsdpshard
