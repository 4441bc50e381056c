// The expansion budget of the config readers (src/config/expansion_budget.h): YAML aliases
// and pickle memo references that share one node many times ("billion laughs") are refused
// as InputErrors after bounded work, while a large honest config still reads, quickly.
#include <gtest/gtest.h>

#include <chrono>

#include "config/omegaconf_nodes.h"
#include "fsdpshard/config/cfg.h"
#include "fsdpshard/util/error.h"
#include "support/input_error.h"

namespace fsdpshard {
namespace {

// Ten aliases of ten aliases ... of ten strings: 10^(levels) values from a few hundred bytes.
std::string laughs(int levels) {
  std::string text = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < levels; ++i) {
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *l" : "*l") + std::to_string(i - 1);
    text += "]\n";
  }
  return text;
}

using test::message_of;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(CfgBudget, BillionLaughsInYamlIsRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const std::string message = message_of([] { normalize_yaml(laughs(9)); });
  EXPECT_NE(message.find("xp.cfg: the config expands to more than 250000 values"), std::string::npos) << message;
  EXPECT_LT(seconds_since(start), 20.0);
  // A few levels are an honest use of aliases and still read.
  EXPECT_NO_THROW(normalize_yaml(laughs(3)));
}

TEST(CfgBudget, AliasedLongStringsAreChargedByTheirText) {
  // 1 MiB of text, aliased 100 times: few values, 100 MiB of text.
  std::string text = "a: &a '" + std::string(1 << 20, 'z') + "'\nb: [";
  for (int i = 0; i < 100; ++i) text += i ? ", *a" : "*a";
  text += "]\n";
  const std::string message = message_of([&] { normalize_yaml(text); });
  EXPECT_NE(message.find("MiB of text"), std::string::npos) << message;
}

TEST(CfgBudget, AliasedMappingsAndSetValuesAreCharged) {
  // Mappings of ten aliases of the previous mapping, and the same bomb as a --set value.
  std::string text = "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}\n";
  for (int i = 1; i < 9; ++i) {
    text += "m" + std::to_string(i) + ": &m" + std::to_string(i) + " {";
    for (int k = 0; k < 10; ++k) text += (k ? ", k" : "k") + std::to_string(k) + ": *m" + std::to_string(i - 1);
    text += "}\n";
  }
  EXPECT_NE(message_of([&] { normalize_yaml(text); }).find("expands to more than"), std::string::npos);
  CfgEdits edits;
  std::string bomb = "[&a [x, x, x, x, x, x, x, x, x, x]";
  for (int i = 1; i < 9; ++i) {
    bomb += ", &" + std::string(1, char('a' + i)) + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", *" : "*") + std::string(1, char('a' + i - 1));
    bomb += "]";
  }
  bomb += "]";
  edits.sets.push_back({"x", bomb});
  EXPECT_NE(message_of([&] { edit_yaml("a: 1\n", edits); }).find("--set x: the config expands"), std::string::npos);
}

TEST(CfgBudget, LargeHonestConfigsReadInLinearTime) {
  // 100000 keys (200000 values) in one mapping: duplicate-key checks must not be quadratic.
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "key_" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  const auto start = std::chrono::steady_clock::now();
  const std::string yaml = normalize_yaml(text);
  EXPECT_LT(seconds_since(start), 30.0);
  EXPECT_NE(yaml.find("key_99999: 99999\n"), std::string::npos);
}

TEST(CfgBudget, SharedNodesInAPickledDictConfigAreCharged) {
  // A DictConfig built the omegaconf way, then rewired as a memo bomb: a ListConfig whose
  // _content lists the previous level ten times, nine levels deep.
  Graph g;
  const NodeId root = dictconfig_from_yaml(g, "a: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n");
  const NodeId root_state = config::oc_state(g, root, "xp.cfg");
  const NodeId root_content = g.at(root_state).entries[config::entry_index(g, root_state, "_content")].second;
  const NodeId list0 = g.at(root_content).entries[0].second;
  NodeId level = list0;
  for (int i = 1; i < 9; ++i) {
    Node state = g.at(g.at(list0).state);
    state.entries[config::entry_index(g, g.at(list0).state, "_content")].second =
        g.list(std::vector<NodeId>(10, level));
    const NodeId new_state = g.add(std::move(state));
    Node list = g.at(list0);
    list.state = new_state;
    level = g.add(std::move(list));
  }
  g.at(root_content).entries[0].second = level;
  const auto start = std::chrono::steady_clock::now();
  const std::string message = message_of([&] { dictconfig_to_yaml(g, root); });
  EXPECT_NE(message.find("xp.cfg: the config expands to more than 250000 values"), std::string::npos) << message;
  EXPECT_LT(seconds_since(start), 20.0);
}

}  // namespace
}  // namespace fsdpshard
