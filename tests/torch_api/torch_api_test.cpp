// fsdpshard::libtorch (include/fsdpshard/torch.h) against the real thing: what it loads is
// saved again and compared with the source by torch.load in Python, bitwise, with strides,
// storage offsets and shared storages (tests/python/torch_api_check.py); views are
// checked to lie in the file's mapping (/proc/self/maps) and not to grow the RSS; hostile
// inputs throw the CLI's errors; selection matches the CLI's.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "fsdpshard/torch.h"
#include "support/test_support.h"

namespace fsdpshard::test {
namespace {

namespace lt = fsdpshard::libtorch;

// Address ranges /proc/self/maps shows for `path`.
std::vector<std::pair<uintptr_t, uintptr_t>> mapped_ranges(const std::string& path) {
  const std::string real = std::filesystem::canonical(path).string();
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos || line.substr(slash) != real) continue;
    uintptr_t begin = 0, end = 0;
    std::sscanf(line.c_str(), "%lx-%lx", &begin, &end);
    ranges.emplace_back(begin, end);
  }
  return ranges;
}

bool inside(const std::vector<std::pair<uintptr_t, uintptr_t>>& ranges, const at::Tensor& t) {
  const auto p = reinterpret_cast<uintptr_t>(t.storage().data_ptr().get());
  for (const auto& [begin, end] : ranges) {
    if (p >= begin && p + t.storage().nbytes() <= end) return true;
  }
  return false;
}

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Saves `loaded` with the API and has Python compare it with `source` (at `key`).
void expect_same_in_python(const std::string& source, const std::string& key, const lt::TensorList& loaded,
                           const std::vector<std::string>& flags = {}) {
  TempDir dir;
  const std::string ours = dir.file("ours.pt");
  lt::save(ours, loaded);
  std::vector<std::string> args{source, ours, "--key", key};
  args.insert(args.end(), flags.begin(), flags.end());
  const auto r = run_python("torch_api_check.py", args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

struct InputCase {
  const char* fixture;
  const char* source;  // the state dict --from auto picks
};

const InputCase kInputs[] = {
    {"training/checkpoint.th", "best_state.model"}, {"fsdp/checkpoint.th", "fsdp_best_state.model"},
    {"exported/state_dict.bin", "best_state"},       {"musicgen_state_dict.pt", ""},
    {"state_dict_dtypes.pt", ""},                   {"state_dict_views.pt", ""},
    {"state_dict_many.pt", ""},                     {"archive_root.pt", ""},
    {"zip64_entries.pt", ""},
};

TEST(TorchApi, EveryTorchSaveLayoutRoundTripsBitwise) {
  for (const InputCase& c : kInputs) {
    SCOPED_TRACE(c.fixture);
    const auto loaded = lt::load(fixture(c.fixture));
    EXPECT_EQ(loaded.source, c.source);
    ASSERT_FALSE(loaded.tensors.empty());
    expect_same_in_python(fixture(c.fixture), c.source, loaded.tensors);
  }
}

// An FSDP run's per-rank state (--from model): every parameter from its pieces in the rank
// files, as gather reassembles it.
TEST(TorchApi, FsdpPerRankStatesAreAssembledFromEveryRank) {
  TempDir dir;
  const std::string run = source_dir() + "/tests/fixtures/fsdp/w2";
  for (const std::string dtype : {"keep", "bfloat16"}) {
    SCOPED_TRACE(dtype);
    const std::string cli = dir.file("cli-" + dtype + ".pt");
    const auto r = run_fsdpshard({"gather", run, "--from", "model", "--to", "state-dict", "--dtype", dtype, "-o", cli});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    lt::LoadOptions options;
    options.from = "model";
    options.dtype = dtype;
    const auto loaded = lt::load(run, options);
    EXPECT_EQ(loaded.source, "model");
    EXPECT_TRUE(loaded.cfg_yaml.has_value());
    expect_same_in_python(cli, "", loaded.tensors);
  }
}

TEST(TorchApi, CfgComesAsYamlText) {
  const auto training = lt::load(fixture("training/checkpoint.th"));
  ASSERT_TRUE(training.cfg_yaml.has_value());
  const auto r = run_fsdpshard({"cfg", fixture("training/checkpoint.th")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(*training.cfg_yaml, r.out);
  EXPECT_FALSE(lt::load(fixture("state_dict_views.pt")).cfg_yaml.has_value());
}

TEST(TorchApi, SafetensorsAndShardSetsLoad) {
  TempDir dir;
  const std::string source = fixture("musicgen_state_dict.pt");
  auto r = run_fsdpshard({"gather", source, "--to", "safetensors", "-o", dir.file("one.safetensors")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_fsdpshard({"reshard", source, "-o", dir.file("torch-shards"), "--shards", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_fsdpshard({"reshard", source, "-o", dir.file("st-shards"), "--shards", "3", "--format", "safetensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string input : {"one.safetensors", "torch-shards", "st-shards"}) {
    SCOPED_TRACE(input);
    const auto loaded = lt::load(dir.file(input));
    // A shard set lists its tensors shard by shard.
    expect_same_in_python(source, "", loaded.tensors, {"--values-only", "--any-order"});
  }
}

TEST(TorchApi, ViewsLieInTheFileMappingAndShareStorages) {
  const std::string path = fixture("state_dict_views.pt");
  at::Tensor survivor;
  {
    const auto loaded = lt::load(path);
    const auto ranges = mapped_ranges(path);
    ASSERT_EQ(ranges.size(), 1u) << "one mapping for the file";
    std::set<const void*> storages;
    for (const auto& [name, t] : loaded.tensors) {
      EXPECT_TRUE(inside(ranges, t)) << name << " is not a view of the file";
      storages.insert(t.storage().unsafeGetStorageImpl());
    }
    EXPECT_LT(storages.size(), loaded.tensors.size()) << "views of one storage share one at::Storage";
    const auto& base = loaded.tensors[0].second;
    const auto& offset_view = loaded.tensors[2].second;
    EXPECT_EQ(base.storage().unsafeGetStorageImpl(), offset_view.storage().unsafeGetStorageImpl());
    EXPECT_GT(offset_view.storage_offset(), 0);
    survivor = loaded.tensors[3].second;  // strided_view
  }
  // The mapping lives as long as a tensor viewing it, and goes with the last one.
  ASSERT_EQ(mapped_ranges(path).size(), 1u);
  EXPECT_TRUE(inside(mapped_ranges(path), survivor));
  const double sum = survivor.sum().item<double>();
  EXPECT_TRUE(std::isfinite(sum));
  survivor.reset();
  EXPECT_TRUE(mapped_ranges(path).empty());
}

TEST(TorchApi, WritableViewsAreCopyOnWriteAndLeaveTheFileAlone) {
  TempDir dir;
  const std::string path = dir.file("w.pt");
  lt::save(path, {{"w", at::arange(16, at::kFloat)}});
  const std::string before = read_file(path);
  {
    auto loaded = lt::load(path);
    loaded.tensors[0].second.add_(1.0);
    EXPECT_EQ(loaded.tensors[0].second[0].item<float>(), 1.0f);
  }
  EXPECT_EQ(read_file(path), before);
}

TEST(TorchApi, LoadingALargeFileDoesNotGrowTheResidentSet) {
  TempDir dir;
  const std::string path = dir.file("large.pt");
  constexpr int64_t kElements = 64 << 20;  // 256 MiB of float32
  {
    const at::Tensor big = at::ones({kElements}, at::kFloat);
    lt::save(path, {{"big", big}, {"small", at::arange(8, at::kFloat)}});
  }
  const uint64_t before = resident_bytes();
  const auto loaded = lt::load(path);
  const uint64_t after = resident_bytes();
  EXPECT_LT(after - std::min(after, before), uint64_t{32} << 20) << "RSS grew by " << (after - before) << " bytes";
  EXPECT_TRUE(inside(mapped_ranges(path), loaded.tensors[0].second));
  EXPECT_EQ(loaded.tensors[0].second.numel(), kElements);
  EXPECT_EQ(loaded.tensors[1].second[7].item<float>(), 7.0f);
}

TEST(TorchApi, CastsAreTorchExactAndOwned) {
  const std::string path = fixture("musicgen_state_dict.pt");
  for (const std::string dtype : {"float16", "bfloat16"}) {
    lt::LoadOptions options;
    options.dtype = dtype;
    const auto loaded = lt::load(path, options);
    const auto ranges = mapped_ranges(path);
    for (const auto& [name, t] : loaded.tensors) {
      if (at::isFloatingType(t.scalar_type())) EXPECT_FALSE(inside(ranges, t)) << name << " was cast in place?";
    }
    expect_same_in_python(path, "", loaded.tensors, {"--dtype", dtype});
  }
}

TEST(TorchApi, SelectionIsTheCliSelection) {
  TempDir dir;
  const std::string path = fixture("musicgen_state_dict.pt");
  const auto r = run_fsdpshard({"gather", path, "--to", "state-dict", "-o", dir.file("cli.pt"), "--include",
                                "transformer.*", "--exclude", "*.bias", "--include", "emb.0.*", "--rename",
                                "^transformer\\.=>tr.", "--dtype", "bfloat16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lt::LoadOptions options;
  options.filters = {{true, "transformer.*"}, {false, "*.bias"}, {true, "emb.0.*"}};
  options.renames = {"^transformer\\.=>tr."};
  options.dtype = "bfloat16";
  const auto ours = lt::load(path, options);
  const auto cli = lt::load(dir.file("cli.pt"));
  ASSERT_EQ(ours.tensors.size(), cli.tensors.size());
  for (std::size_t i = 0; i < ours.tensors.size(); ++i) EXPECT_EQ(ours.tensors[i].first, cli.tensors[i].first);
  expect_same_in_python(dir.file("cli.pt"), "", ours.tensors, {"--values-only"});
}

// load() throws InputError with the very message the CLI prints after "fsdpshard: error: ".
void expect_cli_error(const std::string& path, const lt::LoadOptions& options, std::vector<std::string> cli_args) {
  TempDir dir;
  std::vector<std::string> args{"gather", path, "--to", "state-dict", "-o", dir.file("out.pt")};
  args.insert(args.end(), cli_args.begin(), cli_args.end());
  const auto r = run_fsdpshard(args);
  ASSERT_EQ(r.exit_code, 2) << r.err;
  try {
    lt::load(path, options);
    ADD_FAILURE() << "no error for " << r.err;
  } catch (const InputError& e) {
    EXPECT_EQ("fsdpshard: error: " + std::string(e.what()) + "\n", r.err);
  }
}

TEST(TorchApi, BadOptionsThrowTheCliMessages) {
  const std::string path = fixture("musicgen_state_dict.pt");
  lt::LoadOptions from;
  from.from = "no.such.key";
  expect_cli_error(path, from, {"--from", "no.such.key"});
  lt::LoadOptions nothing;
  nothing.filters = {{true, "nothing.matches.*"}};
  expect_cli_error(path, nothing, {"--include", "nothing.matches.*"});
  lt::LoadOptions collide;
  collide.renames = {"^.*$=>same"};
  expect_cli_error(path, collide, {"--rename", "^.*$=>same"});
  lt::LoadOptions bad_regex;
  bad_regex.filters = {{false, "re:(unclosed"}};
  expect_cli_error(path, bad_regex, {"--exclude", "re:(unclosed"});
  expect_cli_error(fixture("fsdp/checkpoint.th.1"), {}, {});
  lt::LoadOptions bad_dtype;
  bad_dtype.dtype = "int8";
  EXPECT_THROW(lt::load(path, bad_dtype), InputError);
  EXPECT_THROW(lt::load(fixture("no-such-file.pt")), InputError);
  EXPECT_THROW(lt::load(fixture("")), InputError);  // a folder without an index
}

TEST(TorchApi, HostileInputsThrowNeverCrashNeverRun) {
  TempDir dir;
  const auto made = run({python(), source_dir() + "/tests/hostile/make_hostile.py", dir.path()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto manifest = nlohmann::json::parse(read_file(dir.file("manifest.json")));
  ASSERT_GE(manifest["cases"].size(), 25u);
  for (const auto& c : manifest["cases"]) {
    const std::string file = dir.file(c["file"].get<std::string>());
    SCOPED_TRACE(file + " (" + c["what"].get<std::string>() + ")");
    // inspect only reads, as load does: where it refuses the file, load refuses it too.
    int exit_code = 2;
    std::string error = c["error"];
    if (c.contains("inspect")) {
      exit_code = c["inspect"].value("exit", 2);
      error = c["inspect"].value("error", error);
    }
    try {
      const auto loaded = lt::load(file);
      EXPECT_NE(exit_code, 2) << "loaded what the CLI refuses: " << error;
      for (const auto& entry : loaded.tensors) (void)entry.second.sum();  // the bytes are readable
    } catch (const InputError& e) {
      if (exit_code == 2) {
        EXPECT_NE(std::string(e.what()).find(error), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      }
    } catch (const RuntimeFailure& e) {
      EXPECT_NE(exit_code, 2) << e.what();
    }
    if (c.contains("marker")) EXPECT_FALSE(file_exists(c["marker"].get<std::string>())) << "a payload ran";
  }
}

TEST(TorchApi, SaveKeepsViewsOffsetsAndSharing) {
  TempDir dir;
  const at::Tensor base = at::arange(64, at::kFloat);
  const at::Tensor matrix = at::randn({6, 4}).to(at::kBFloat16);
  const lt::TensorList state{{"base", base},
                             {"offset_view", base.narrow(0, 5, 10)},
                             {"transposed", base.view({8, 8}).t()},
                             {"strided", base.slice(0, 1, 64, 3)},
                             {"matrix", matrix},
                             {"column", matrix.select(1, 2)},
                             {"empty", at::empty({0, 3}, at::kLong)},
                             {"scalar", at::scalar_tensor(3.5, at::kDouble)},
                             {"flags", at::tensor({1, 0, 1}, at::kInt).to(at::kBool)}};
  const std::string path = dir.file("state.pt");
  lt::save(path, state);
  const auto py = run_python("torch_api_check.py", {path, path});  // torch.load(weights_only=True) reads it
  EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
  const auto loaded = lt::load(path);
  ASSERT_EQ(loaded.tensors.size(), state.size());
  for (std::size_t i = 0; i < state.size(); ++i) {
    const auto& [name, want] = state[i];
    const auto& got = loaded.tensors[i].second;
    SCOPED_TRACE(name);
    EXPECT_EQ(loaded.tensors[i].first, name);
    EXPECT_EQ(got.scalar_type(), want.scalar_type());
    EXPECT_EQ(got.sizes(), want.sizes());
    EXPECT_EQ(got.strides(), want.strides());
    EXPECT_EQ(got.storage_offset(), want.storage_offset());
    EXPECT_TRUE(at::equal(got, want));
  }
  const auto impl = [&](std::size_t i) { return loaded.tensors[i].second.storage().unsafeGetStorageImpl(); };
  EXPECT_EQ(impl(0), impl(1));
  EXPECT_EQ(impl(0), impl(2));
  EXPECT_EQ(impl(0), impl(3));
  EXPECT_EQ(impl(4), impl(5));
  EXPECT_NE(impl(0), impl(4));
}

TEST(TorchApi, SafetensorsSaveReadsBackInPython) {
  FSDPSHARD_REQUIRE_TORCH2(torch2);
  TempDir dir;
  const auto loaded = lt::load(fixture("musicgen_state_dict.pt"));
  const std::string path = dir.file("model.safetensors");
  lt::save_safetensors(path, loaded.tensors);
  const auto r = run_python2(torch2, "torch_api_check.py",
                             {fixture("musicgen_state_dict.pt"), path, "--values-only"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto again = lt::load(path);
  ASSERT_EQ(again.tensors.size(), loaded.tensors.size());
  for (std::size_t i = 0; i < again.tensors.size(); ++i) EXPECT_TRUE(at::equal(again.tensors[i].second, loaded.tensors[i].second));
}

TEST(TorchApi, MisalignedSafetensorsDataIsCopiedNotViewed) {
  TempDir dir;
  const std::string path = dir.file("odd.safetensors");
  // 3 bfloat16 values (6 bytes) put the float32 tensor after them at a 2-byte boundary.
  const at::Tensor odd = at::arange(3, at::kFloat).to(at::kBFloat16);
  const at::Tensor after = at::arange(5, at::kFloat) * 0.5;
  lt::save_safetensors(path, {{"odd", odd}, {"after", after}});
  const auto loaded = lt::load(path);
  const auto ranges = mapped_ranges(path);
  EXPECT_TRUE(inside(ranges, loaded.tensors[0].second));
  EXPECT_FALSE(inside(ranges, loaded.tensors[1].second)) << "a misaligned float32 view";
  EXPECT_EQ(reinterpret_cast<uintptr_t>(loaded.tensors[1].second.data_ptr()) % 4, 0u);
  EXPECT_TRUE(at::equal(loaded.tensors[0].second, odd));
  EXPECT_TRUE(at::equal(loaded.tensors[1].second, after));
}

TEST(TorchApi, SaveRefusesBadStateDictsAndWritesNothing) {
  TempDir dir;
  const std::string path = dir.file("out.pt");
  EXPECT_THROW(lt::save(path, {{"a", at::ones({2})}, {"a", at::ones({3})}}), InputError);
  EXPECT_THROW(lt::save(path, {{"undefined", at::Tensor()}}), InputError);
  EXPECT_THROW(lt::save_safetensors(dir.file("x.safetensors"), {{"a", at::ones({2})}, {"a", at::ones({2})}}), InputError);
  EXPECT_TRUE(list_dir(dir.path()).empty()) << "nothing written, no temporary left";
  lt::save(path, {{"a", at::ones({2})}});
  const std::string first = read_file(path);
  EXPECT_THROW(lt::save(path, {{"b", at::zeros({2})}}), InputError);  // exists, no overwrite
  EXPECT_EQ(read_file(path), first);
  lt::SaveOptions overwrite;
  overwrite.overwrite = true;
  lt::save(path, {{"b", at::zeros({2})}}, overwrite);
  EXPECT_EQ(lt::load(path).tensors.at(0).first, "b");
  EXPECT_EQ(list_dir(dir.path()).size(), 1u);
}

TEST(TorchApi, DeviceOptionMovesStoragesOnce) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  lt::LoadOptions options;
  options.device = c10::Device(c10::kCUDA, 0);
  const auto loaded = lt::load(fixture("state_dict_views.pt"), options);
  for (const auto& entry : loaded.tensors) EXPECT_TRUE(entry.second.is_cuda()) << entry.first;
  EXPECT_EQ(loaded.tensors[0].second.storage().unsafeGetStorageImpl(),
            loaded.tensors[2].second.storage().unsafeGetStorageImpl());
  const auto cpu = lt::load(fixture("state_dict_views.pt"));
  for (std::size_t i = 0; i < cpu.tensors.size(); ++i) {
    EXPECT_TRUE(at::equal(loaded.tensors[i].second.cpu(), cpu.tensors[i].second));
  }
}

}  // namespace
}  // namespace fsdpshard::test
