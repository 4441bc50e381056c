// select_tensors' rules (plan/selection.cpp): --include/--exclude in the order given,
// --rename in order with its name errors, and which dtypes --dtype casts. The regex
// engine itself is selection_test.cpp's subject; here plain globs do.
#include <gtest/gtest.h>

#include "fsdpshard/util/error.h"
#include "fsdpshard/plan/selection.h"
#include "support/input_error.h"

namespace fsdpshard {
namespace {

using test::message_of;

const std::vector<std::string> kNames = {"emb.0.weight", "layers.0.w", "layers.0.b", "layers.1.w", "out.w"};
const std::vector<DType> kFloat32(kNames.size(), DType::Float32);

FilterRule include(const std::string& pattern) { return {true, NamePattern(pattern, "--include")}; }
FilterRule exclude(const std::string& pattern) { return {false, NamePattern(pattern, "--exclude")}; }

// The input indices select_tensors keeps.
std::vector<std::size_t> kept(const SelectionOptions& options) {
  std::vector<std::size_t> out;
  for (const Selected& s : select_tensors(kNames, kFloat32, options)) out.push_back(s.index);
  return out;
}

std::vector<std::string> output_names(const std::vector<std::string>& names, const SelectionOptions& options) {
  std::vector<std::string> out;
  for (const Selected& s : select_tensors(names, std::vector<DType>(names.size(), DType::Float32), options)) {
    out.push_back(s.name);
  }
  return out;
}

TEST(SelectionRules, NoRulesKeepEverythingInInputOrder) {
  EXPECT_EQ(kept({}), (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

TEST(SelectionRules, AnIncludeFirstStartsFromNothingAnExcludeFirstFromEverything) {
  SelectionOptions options;
  options.filters = {include("layers.*")};
  EXPECT_EQ(kept(options), (std::vector<std::size_t>{1, 2, 3}));
  options.filters = {exclude("layers.*")};
  EXPECT_EQ(kept(options), (std::vector<std::size_t>{0, 4}));
}

TEST(SelectionRules, RulesApplyInTheOrderGiven) {
  SelectionOptions options;
  // Include the layers, drop layer 0, take layer 0's bias back.
  options.filters = {include("layers.*"), exclude("layers.0.*"), include("layers.0.b")};
  EXPECT_EQ(kept(options), (std::vector<std::size_t>{2, 3}));
  // The same rules in another order mean something else: the late exclude wins.
  options.filters = {include("layers.*"), include("layers.0.b"), exclude("layers.0.*")};
  EXPECT_EQ(kept(options), (std::vector<std::size_t>{3}));
  // Output order is the input's, not the order rules matched in.
  options.filters = {include("out.*"), include("emb.*")};
  EXPECT_EQ(kept(options), (std::vector<std::size_t>{0, 4}));
}

TEST(SelectionRules, EmptyResultNamesEveryFilterUnlessAllowed) {
  SelectionOptions options;
  options.filters = {include("layers.*"), exclude("layers.*")};
  const std::string message = message_of([&] { kept(options); });
  EXPECT_NE(message.find("--include 'layers.*'"), std::string::npos) << message;
  EXPECT_NE(message.find("--exclude 'layers.*'"), std::string::npos) << message;
  EXPECT_NE(message.find("no tensor is left of the 5"), std::string::npos) << message;
  options.allow_empty = true;
  EXPECT_TRUE(kept(options).empty());
}

TEST(SelectionRules, RenamesApplyInOrderEachToTheResultOfTheLast) {
  SelectionOptions options;
  options.renames = {RenameRule("^layers\\.=>blocks."), RenameRule("^blocks\\.([0-9]+)\\.=>b\\1_")};
  EXPECT_EQ(output_names(kNames, options),
            (std::vector<std::string>{"emb.0.weight", "b0_w", "b0_b", "b1_w", "out.w"}));
  // Every match is replaced, not only the first.
  options.renames = {RenameRule("\\.=>/")};
  EXPECT_EQ(output_names({"a.b.c"}, options), (std::vector<std::string>{"a/b/c"}));
  // Renames see only what the filters kept: a collision among dropped names is no error.
  options.filters = {exclude("layers.0.b")};
  options.renames = {RenameRule("^layers\\.0\\.[wb]$=>layer0")};
  EXPECT_EQ(output_names(kNames, options), (std::vector<std::string>{"emb.0.weight", "layer0", "layers.1.w", "out.w"}));
}

TEST(SelectionRules, TwoTensorsRenamedOntoOneNameAreRefused) {
  SelectionOptions options;
  options.renames = {RenameRule("\\.[wb]$=>")};
  const std::string message = message_of([&] { kept(options); });
  EXPECT_NE(message.find("--rename maps both 'layers.0.w' and 'layers.0.b' to 'layers.0'"), std::string::npos)
      << message;
  // Renamed onto a name another tensor keeps unrenamed: refused too.
  options.renames = {RenameRule("^emb\\.0\\.weight$=>out.w")};
  EXPECT_NE(message_of([&] { kept(options); }).find("to 'out.w'"), std::string::npos);
}

TEST(SelectionRules, ARenameThatEmptiesANameIsRefusedAnEmptyKeyIsKept) {
  SelectionOptions options;
  options.renames = {RenameRule("^out\\.w$=>")};
  EXPECT_NE(message_of([&] { kept(options); }).find("--rename turns 'out.w' into an empty name"), std::string::npos);
  // torch keeps state_dict()[''] as a key; so does fsdpshard, renames or not.
  options.renames = {RenameRule("^x=>y")};
  EXPECT_EQ(output_names({"", "x"}, options), (std::vector<std::string>{"", "y"}));
}

TEST(SelectionRules, MalformedRenameRulesAreInputErrors) {
  EXPECT_NE(message_of([] { RenameRule("no arrow"); }).find("--rename 'no arrow': expected 'REGEX=>REPLACEMENT'"),
            std::string::npos);
  // An empty REGEX would match everywhere: refused the same way.
  EXPECT_NE(message_of([] { RenameRule("=>x"); }).find("expected 'REGEX=>REPLACEMENT'"), std::string::npos);
}

TEST(SelectionRules, DtypeCastsOnlyFloat64To16AndBfloat16) {
  const std::vector<DType> dtypes = {DType::Float64, DType::Float32, DType::Float16, DType::BFloat16,
                                     DType::Float8E4M3, DType::Float8E5M2, DType::Int64, DType::UInt8,
                                     DType::Bool, DType::Complex64, DType::Float4E2M1FNx2};
  std::vector<std::string> names;
  for (std::size_t k = 0; k < dtypes.size(); ++k) names.push_back("t" + std::to_string(k));
  for (DType target : {DType::Float16, DType::BFloat16, DType::Float32}) {
    SCOPED_TRACE(std::string(torch_name(target)));
    SelectionOptions options;
    options.dtype = target;
    const std::vector<Selected> selected = select_tensors(names, dtypes, options);
    ASSERT_EQ(selected.size(), dtypes.size());
    for (std::size_t k = 0; k < dtypes.size(); ++k) {
      // float8 / float4 hold scaled values whose scales are other tensors: they stay.
      const DType expected = is_castable_floating(dtypes[k]) ? target : dtypes[k];
      EXPECT_EQ(selected[k].dtype, expected) << torch_name(dtypes[k]);
    }
  }
  EXPECT_TRUE(is_castable_floating(DType::Float64));
  EXPECT_FALSE(is_castable_floating(DType::Float8E4M3));
  EXPECT_FALSE(is_castable_floating(DType::Complex64));
  // Without --dtype everything keeps its dtype.
  const std::vector<Selected> kept_dtypes = select_tensors(names, dtypes, {});
  for (std::size_t k = 0; k < dtypes.size(); ++k) EXPECT_EQ(kept_dtypes[k].dtype, dtypes[k]);
}

}  // namespace
}  // namespace fsdpshard
