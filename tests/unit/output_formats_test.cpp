// The output-format seam without MPI or Python: the registry (names, defaults, lookup
// errors) and a shard set planned, and written, from a safetensors file made by
// fsdpshard's own writer.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>

#include "fsdpshard/source/checkpoint.h"
#include "fsdpshard/comm/communicator.h"
#include "fsdpshard/util/error.h"
#include "fsdpshard/execute/executor.h"
#include "fsdpshard/formats/registry.h"
#include "fsdpshard/archive/safetensors.h"
#include "fsdpshard/plan/selection.h"
#include "fsdpshard/source/resolve_source.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

constexpr FormatOption kOptions[] = {FormatOption::GatherTo, FormatOption::ReshardFormat, FormatOption::ReshardWorld};

TEST(OutputFormats, NamesAreUniquePerOption) {
  for (FormatOption option : kOptions) {
    std::set<std::string> names;
    for (const OutputFormat* format : output_formats_for(option)) {
      EXPECT_FALSE(format->name().empty());
      EXPECT_FALSE(format->description().empty()) << format->name();
      EXPECT_TRUE(names.insert(format->name()).second) << option_flag(option) << " offers " << format->name() << " twice";
    }
    EXPECT_FALSE(names.empty()) << option_flag(option) << " offers no format";
  }
  std::size_t offered = 0;
  for (FormatOption option : kOptions) offered += output_formats_for(option).size();
  EXPECT_EQ(offered, output_formats().size()) << "a format whose option is none of gather's or reshard's";
}

TEST(OutputFormats, TheCommandLinesChoices) {
  auto names = [](FormatOption option) {
    std::vector<std::string> out;
    for (const OutputFormat* format : output_formats_for(option)) out.push_back(format->name());
    return out;
  };
  EXPECT_EQ(names(FormatOption::GatherTo), (std::vector<std::string>{"training", "export", "state-dict", "safetensors"}));
  EXPECT_EQ(names(FormatOption::ReshardFormat), (std::vector<std::string>{"torch", "safetensors"}));
  EXPECT_EQ(default_output_format(FormatOption::GatherTo).name(), "training");
  EXPECT_EQ(default_output_format(FormatOption::ReshardFormat).name(), "torch");
  for (const OutputFormat* format : output_formats_for(FormatOption::GatherTo)) {
    EXPECT_EQ(format->output_kind(), OutputKind::File) << format->name();
    EXPECT_TRUE(format->plans_from_selection()) << format->name();
  }
  for (FormatOption option : {FormatOption::ReshardFormat, FormatOption::ReshardWorld}) {
    for (const OutputFormat* format : output_formats_for(option)) {
      EXPECT_EQ(format->output_kind(), OutputKind::Folder) << format->name();
    }
  }
  // --world re-lays out whole rank files: it reads them itself, not a selection.
  EXPECT_FALSE(default_output_format(FormatOption::ReshardWorld).plans_from_selection());
}

TEST(OutputFormats, LookupFindsByOptionAndName) {
  EXPECT_EQ(&find_output_format(FormatOption::GatherTo, "export"), output_formats_for(FormatOption::GatherTo)[1]);
  // One name, two options, two formats: a .safetensors file and a safetensors shard set.
  const OutputFormat& file = find_output_format(FormatOption::GatherTo, "safetensors");
  const OutputFormat& shards = find_output_format(FormatOption::ReshardFormat, "safetensors");
  EXPECT_NE(&file, &shards);
  EXPECT_EQ(file.output_kind(), OutputKind::File);
  EXPECT_EQ(shards.output_kind(), OutputKind::Folder);
}

TEST(OutputFormats, UnknownNameIsAnInputErrorListingTheChoices) {
  try {
    find_output_format(FormatOption::GatherTo, "gguf");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "--to gguf: no such output format (choices: training, export, state-dict, safetensors)");
  }
  try {
    find_output_format(FormatOption::ReshardFormat, "training");  // gather's, not reshard's
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "--format training: no such output format (choices: torch, safetensors)");
  }
}

// A safetensors file written by fsdpshard's writer: float32 a[4], b[8], c[2], d[2]
// (element i of each is 100 * tensor + i), with "e" recorded as a tied name of "a".
std::string write_source(const TempDir& dir) {
  const std::string path = dir.file("in.safetensors");
  std::vector<SafetensorsTensorSpec> specs;
  const std::vector<std::pair<std::string, uint64_t>> shapes{{"a", 4}, {"b", 8}, {"c", 2}, {"d", 2}};
  for (const auto& [name, n] : shapes) specs.push_back({name, DType::Float32, {n}, n * 4});
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_GE(fd, 0);
  SafetensorsWriter writer(fd, specs, {{"format", "pt"}, {"e", "a"}});
  for (std::size_t t = 0; t < shapes.size(); ++t) {
    std::vector<float> values(shapes[t].second);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(100 * t + i);
    writer.add(shapes[t].first, values.data(), values.size() * sizeof(float));
  }
  writer.finish();
  ::close(fd);
  return path;
}

// reshard --format `format` of the file's state dict into dir/out.
TransferOptions reshard_options(const Checkpoint& ckpt, const TempDir& dir, const std::string& format) {
  TransferOptions options;
  options.input = ckpt.path();
  options.output = dir.file("out");
  options.format = format;
  return options;
}

PlannedJob plan_shards(Checkpoint& ckpt, const TransferOptions& options, int ranks) {
  SelectedSource source{ckpt, resolve_source(ckpt, "auto"), {}, ckpt.inputs()};
  std::vector<std::string> names;
  std::vector<DType> dtypes;
  for (const NamedTensor& t : source.source.tensors) {
    names.push_back(t.name);
    dtypes.push_back(t.tensor.dtype);
  }
  source.selected = select_tensors(names, dtypes, options.selection);
  return find_output_format(FormatOption::ReshardFormat, options.format).plan({options, ranks, &source});
}

std::vector<std::string> file_names(const PlannedJob& job) {
  std::vector<std::string> names;
  for (const PlannedFile& f : job.plan.files) names.push_back(f.name);
  return names;
}

// huggingface_hub's split (split_state_dict_into_shards_factory) of a 16, b 32, c 8, d 8
// bytes at max_shard_size=40: a opens a shard; b would pass 40, so it opens the next; c
// fits beside b (exactly 40); d opens a third. Index: json.dump(indent=2) of
// {"metadata": {"total_size": 64}, "weight_map": {tensor: file}}, in shard order.
TEST(OutputFormats, TorchShardSetIsSplitNamedAndIndexedAsHuggingfaceHub) {
  TempDir dir;
  Checkpoint ckpt(write_source(dir));
  TransferOptions options = reshard_options(ckpt, dir, "torch");
  options.max_shard_size = 40;
  options.selection.filters.push_back({false, NamePattern("e", "--exclude")});  // the tied name
  const PlannedJob job = plan_shards(ckpt, options, 2);

  EXPECT_FALSE(job.plan.single_file);
  EXPECT_EQ(job.plan.output, options.output);
  EXPECT_EQ(file_names(job), (std::vector<std::string>{"pytorch_model-00001-of-00003.bin",
                                                       "pytorch_model-00002-of-00003.bin",
                                                       "pytorch_model-00003-of-00003.bin",
                                                       "pytorch_model.bin.index.json"}));
  ASSERT_EQ(job.plan.files.size(), 4u);
  EXPECT_EQ(job.plan.files[0].bytes(), 16u);
  EXPECT_EQ(job.plan.files[1].bytes(), 40u);
  EXPECT_EQ(job.plan.files[2].bytes(), 8u);
  // Writers spread over the ranks, file k on rank k % ranks; the index by rank 0.
  EXPECT_EQ(job.plan.files[0].writer, 0);
  EXPECT_EQ(job.plan.files[1].writer, 1);
  EXPECT_EQ(job.plan.files[2].writer, 0);
  // torch.save's root folder is the file name without its extension.
  EXPECT_EQ(job.plan.files[1].archive_root, "pytorch_model-00002-of-00003");
  EXPECT_TRUE(job.plan.files[3].records.empty());
  EXPECT_EQ(job.plan.files[3].header,
            "{\n"
            "  \"metadata\": {\n"
            "    \"total_size\": 64\n"
            "  },\n"
            "  \"weight_map\": {\n"
            "    \"a\": \"pytorch_model-00001-of-00003.bin\",\n"
            "    \"b\": \"pytorch_model-00002-of-00003.bin\",\n"
            "    \"c\": \"pytorch_model-00002-of-00003.bin\",\n"
            "    \"d\": \"pytorch_model-00003-of-00003.bin\"\n"
            "  }\n"
            "}");
}

// The same tensors as safetensors shards, tied name kept in the selection: huggingface_hub
// drops "e" (it shares a's storage), records {"e": "a"} after total_size and the user's
// metadata, and puts the metadata in the index, not the shards' headers.
TEST(OutputFormats, SafetensorsShardSetDropsTiedNamesAndWritesWhatItPlanned) {
  TempDir dir;
  Checkpoint ckpt(write_source(dir));
  TransferOptions options = reshard_options(ckpt, dir, "safetensors");
  options.shards = 2;
  options.metadata = {{"origin", "test"}};
  const PlannedJob job = plan_shards(ckpt, options, 1);

  // --shards 2 balances bytes, largest first: b (32) in one file, a, c, d (32) in the other.
  EXPECT_EQ(file_names(job), (std::vector<std::string>{"model-00001-of-00002.safetensors",
                                                       "model-00002-of-00002.safetensors",
                                                       "model.safetensors.index.json"}));
  ASSERT_EQ(job.plan.files.size(), 3u);
  EXPECT_EQ(job.plan.files[2].header,
            "{\n"
            "  \"metadata\": {\n"
            "    \"total_size\": 64,\n"
            "    \"origin\": \"test\",\n"
            "    \"e\": \"a\"\n"
            "  },\n"
            "  \"weight_map\": {\n"
            "    \"b\": \"model-00001-of-00002.safetensors\",\n"
            "    \"a\": \"model-00002-of-00002.safetensors\",\n"
            "    \"c\": \"model-00002-of-00002.safetensors\",\n"
            "    \"d\": \"model-00002-of-00002.safetensors\"\n"
            "  }\n"
            "}");
  EXPECT_NE(job.what.find("1 tied name dropped"), std::string::npos) << job.what;

  // What was planned is what gets written: the set reads back with every value, and the
  // tied name comes back as a view of a.
  auto comm = make_communicator("local");
  execute(job.plan, *comm, ExecuteOptions{});
  const Checkpoint out(options.output);
  const StateDict sd = out.state_dict_at("");
  std::map<std::string, std::vector<float>> values;
  for (const NamedTensor& t : sd.tensors) {
    const StorageLocation where = out.storage_location(t.tensor.storage);
    ASSERT_EQ(where.segments.size(), 1u) << t.name;  // a shard's record is one run
    const StorageSegment& run = where.segments.front();
    std::vector<float> v(t.tensor.numel());
    const std::string bytes = read_file(out.inputs()[run.input]).substr(
        run.offset + t.tensor.storage_offset * 4, v.size() * 4);
    std::memcpy(v.data(), bytes.data(), bytes.size());
    values[t.name] = v;
  }
  EXPECT_EQ(values["a"], (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(values["b"], (std::vector<float>{100, 101, 102, 103, 104, 105, 106, 107}));
  EXPECT_EQ(values["c"], (std::vector<float>{200, 201}));
  EXPECT_EQ(values["d"], (std::vector<float>{300, 301}));
  EXPECT_EQ(values["e"], values["a"]);
}

}  // namespace
}  // namespace fsdpshard::test
