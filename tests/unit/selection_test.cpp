// --include/--exclude 're:...' and --rename on RE2 (src/util/linear_regex.h): the
// reference for "same meaning as before" is std::regex, which the tool used until a
// catastrophic pattern crashed it (issue 11): every rule below must give what
// std::regex_search / std::regex_replace give for patterns both engines accept.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "fsdpshard/util/error.h"
#include "fsdpshard/plan/fsdp_layout.h"
#include "fsdpshard/plan/selection.h"
#include "support/input_error.h"

namespace fsdpshard {
namespace {

const std::vector<std::string>& sample_names() {
  static const std::vector<std::string> names = {
      "",
      "a",
      "emb.0.weight",
      "transformer.layers.0.self_attn.in_proj_weight",
      "transformer.layers.11.norm1.bias",
      "condition_provider.conditioners.description.output_proj.weight",
      "out_norm.weight",
      "linears.3.weight",
      "xxxxxxxy",
      "baaac",
      "weight.weight",
  };
  return names;
}

using test::message_of;

TEST(Selection, RegexPatternsFindWhatStdRegexSearchFinds) {
  const std::vector<std::string> patterns = {
      "weight",          "^transformer\\.layers\\.[0-9]+\\.", "bias$",      "\\.(0|3)\\.", "^$", "a*",
      "[^.]+\\.weight$", "layers\\.\\d{2}\\.",               "(x+x+)+y",   "^emb|norm",   ".",  "\\bweight\\b",
  };
  for (const std::string& p : patterns) {
    const NamePattern pattern("re:" + p, "--include");
    const std::regex reference(p, std::regex::ECMAScript);
    for (const std::string& name : sample_names()) {
      EXPECT_EQ(pattern.matches(name), std::regex_search(name, reference)) << "pattern " << p << " on '" << name << "'";
    }
  }
}

TEST(Selection, GlobsMatchTheWholeName) {
  EXPECT_TRUE(NamePattern("transformer.*").matches("transformer.layers.0.bias"));
  EXPECT_FALSE(NamePattern("layers.*").matches("transformer.layers.0.bias"));
  EXPECT_TRUE(NamePattern("emb.?.weight").matches("emb.0.weight"));
  EXPECT_FALSE(NamePattern("emb.?.weight").matches("emb.10.weight"));
}

TEST(Selection, RenamesGiveWhatStdRegexReplaceGives) {
  // {regex, replacement in std::regex_replace's format}: the rule is written with the
  // same replacement, so $N, $&, $`, $', $$ must mean what they meant before.
  const std::vector<std::pair<std::string, std::string>> rules = {
      {"^transformer\\.", "lm."},
      {"weight", "w"},
      {"\\.([0-9]+)\\.", ".L$1."},
      {"^(\\w+)\\.(\\w+)", "$2.$1"},
      {"a*", "X"},
      {"$", ".old"},
      {"^", "model."},
      {"(norm)(1)?", "[$1|$2]"},
      {"\\.", "$$"},
      {"layers", "<$&>"},
      {"0", "($`)"},
      {"0", "($')"},
      {"x+y", "Z"},
      {"(?:weight)", "param"},
  };
  for (const auto& [regex, replacement] : rules) {
    const RenameRule rule(regex + "=>" + replacement);
    const std::regex reference(regex, std::regex::ECMAScript);
    for (const std::string& name : sample_names()) {
      EXPECT_EQ(rule.apply(name), std::regex_replace(name, reference, replacement))
          << "rule " << regex << "=>" << replacement << " on '" << name << "'";
    }
  }
}

TEST(Selection, BackslashGroupsArePythonStyleDollarGroups) {
  const RenameRule python("^(\\w+)\\.(\\d+)\\.=>\\2.\\1.");
  const RenameRule dollar("^(\\w+)\\.(\\d+)\\.=>$2.$1.");
  EXPECT_EQ(python.apply("emb.0.weight"), "0.emb.weight");
  EXPECT_EQ(dollar.apply("emb.0.weight"), "0.emb.weight");
  EXPECT_EQ(RenameRule("\\.=>\\\\").apply("a.b"), "a\\b");  // \\ is one backslash
}

TEST(Selection, CatastrophicPatternsRunInLinearTime) {
  // std::regex recursed once per character here and died of a stack overflow.
  const std::string key(200000, 'x');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(NamePattern("re:(x+x+)+y", "--include").matches(key));
  EXPECT_TRUE(NamePattern("re:(x+x+)+$", "--include").matches(key));
  EXPECT_EQ(RenameRule("(x+x+)+y=>z").apply(key), key);
  EXPECT_EQ(RenameRule("(x|xx)+=>z").apply(key), "z");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 5.0);
}

TEST(Selection, BadOrHugePatternsAreInputErrorsNamingTheOption) {
  EXPECT_NE(message_of([] { NamePattern("re:(unclosed", "--include"); }).find("--include '(unclosed'"),
            std::string::npos);
  EXPECT_NE(message_of([] { NamePattern("re:a{2000}", "--exclude"); }).find("--exclude 'a{2000}'"),
            std::string::npos);
  const std::string nested = message_of([] { NamePattern("re:((((a{100}){100}){100}){100})", "--include"); });
  EXPECT_NE(nested.find("--include"), std::string::npos) << nested;
  EXPECT_NE(nested.find("a repetition is too large"), std::string::npos) << nested;
  // 700 x '.{1000}': 700000 instructions, over the 8 MiB bound.
  std::string long_pattern;
  for (int i = 0; i < 700; ++i) long_pattern += ".{1000}";
  const std::string huge = message_of([&] { NamePattern("re:" + long_pattern, "--exclude"); });
  EXPECT_NE(huge.find("--exclude"), std::string::npos) << huge.substr(0, 100);
  EXPECT_NE(huge.find("the pattern is too large (compiles to more than 8 MiB)"), std::string::npos)
      << huge.substr(huge.size() - 200);
  // Backreferences need backtracking: RE2 refuses them, so do we (clearly).
  EXPECT_NE(message_of([] { NamePattern("re:(a)\\1", "--include"); }).find("not a usable regular expression"),
            std::string::npos);
  EXPECT_NE(message_of([] { RenameRule("(a=>b"); }).find("--rename '(a'"), std::string::npos);
  EXPECT_NE(message_of([] { RenameRule("(a)=>\\2"); }).find("refers to group 2 but the regex has 1"),
            std::string::npos);
  EXPECT_NE(message_of([] { FsdpUnitRules({"layers\\.[0-9"}); }).find("--fsdp-units"), std::string::npos);
}

TEST(Selection, FiltersThatLeaveNothingAreRefusedUnlessAllowed) {
  const std::vector<std::string> names = {"a.weight", "b.weight"};
  const std::vector<DType> dtypes = {DType::Float32, DType::Float32};
  SelectionOptions options;
  options.filters.push_back({true, NamePattern("nomatch*", "--include")});
  const std::string message = message_of([&] { select_tensors(names, dtypes, options); });
  EXPECT_NE(message.find("--include 'nomatch*': no tensor is left of the 2"), std::string::npos) << message;
  EXPECT_NE(message.find("--allow-empty"), std::string::npos);

  options.filters = {{false, NamePattern("*.weight", "--exclude")}};
  EXPECT_NE(message_of([&] { select_tensors(names, dtypes, options); }).find("--exclude '*.weight'"),
            std::string::npos);

  options.allow_empty = true;
  EXPECT_TRUE(select_tensors(names, dtypes, options).empty());

  // No filters: an empty state dict in is an empty state dict out, no error.
  EXPECT_TRUE(select_tensors({}, {}, SelectionOptions{}).empty());
  // A filter that keeps something is fine.
  SelectionOptions some;
  some.filters.push_back({true, NamePattern("a.*", "--include")});
  ASSERT_EQ(select_tensors(names, dtypes, some).size(), 1u);
}

TEST(Selection, FsdpUnitsMatchAPrefixOfTheName) {
  const FsdpUnitRules rules({"transformer\\.layers\\.[0-9]+\\.", "emb"});
  EXPECT_EQ(rules.unit_of("transformer.layers.11.norm1.bias"), "transformer.layers.11");
  EXPECT_EQ(rules.unit_of("model.transformer.layers.1.x"), "");  // anchored at the start
  EXPECT_EQ(rules.unit_of("emb.0.weight"), "emb");
  EXPECT_EQ(rules.unit_of("out_norm.weight"), "");
}

}  // namespace
}  // namespace fsdpshard
