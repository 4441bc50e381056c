// The symbolic unpickler and the pickler: Python writes pickles of every protocol, we
// read them and write them back, Python checks the copies (values, exact types, sharing,
// opcodes). Plus hand-made streams for opcodes and errors, and graphs built in C++.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fsdpshard/util/error.h"
#include "fsdpshard/pickle/object_graph.h"
#include "fsdpshard/pickle/pickler.h"
#include "fsdpshard/pickle/unpickler.h"
#include "support/test_support.h"

namespace fsdpshard {
namespace {

using test::TempDir;

// Re-pickles every file of `in` into `out` (same names); also checks that writing our
// own output again gives the very same bytes.
void repickle_folder(const std::string& in, const std::string& out) {
  std::filesystem::create_directories(out);
  for (const std::string& name : test::list_dir(in)) {
    if (name.size() < 4 || name.substr(name.size() - 4) != ".pkl") continue;
    SCOPED_TRACE(name);
    Graph graph;
    const NodeId root = unpickle(test::read_file(in + "/" + name), graph, name);
    const std::string written = pickle(graph, root);
    test::write_file(out + "/" + name, written);
    Graph again;
    EXPECT_EQ(pickle(again, unpickle(written, again, name + " (ours)")), written);
  }
}

TEST(PickleRoundTrip, PythonValuesOfEveryProtocol) {
  TempDir dir;
  const auto gen = test::run_python("pickle_cases.py", {"gen", dir.file("in")});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ASSERT_GE(test::list_dir(dir.file("in")).size(), 100u);
  repickle_folder(dir.file("in"), dir.file("out"));
  const auto check = test::run_python("pickle_cases.py", {"check", dir.file("in"), dir.file("out")});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find(", 0 problems"), std::string::npos) << check.out;
}

TEST(PickleRoundTrip, TorchSaveDataPkl) {
  TempDir dir;
  const auto gen = test::run_python("pickle_torch.py", {"gen", dir.path()});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const std::string out = dir.file("out");
  std::filesystem::create_directories(out);
  for (const std::string name : {"state_dict", "training"}) {
    Graph graph;
    const std::string file = name + ".data.pkl";
    const NodeId root = unpickle(test::read_file(dir.file(file)), graph, file);
    test::write_file(out + "/" + file, pickle(graph, root));
  }
  const auto check = test::run_python("pickle_torch.py", {"check", dir.path(), out});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("checked 2 checkpoints, 0 problems"), std::string::npos) << check.out;
}

// ---- hand-made streams

std::string proto2(const std::string& body) { return std::string("\x80\x02", 2) + body + "."; }

NodeId read(const std::string& data, Graph& graph) { return unpickle(data, graph, "test.pkl"); }

// A string literal with embedded NULs, whole.
template <std::size_t N>
std::string raw(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

TEST(Unpickle, MemoGetKeepsIdentity) {
  Graph g;
  // A list that contains itself twice: EMPTY_LIST BINPUT 0 BINGET 0 BINGET 0 APPENDS.
  const NodeId root = read(proto2(raw("]q\x00(h\x00h\x00" "e")), g);
  const Node& list = g.at(root);
  ASSERT_EQ(list.kind, NodeKind::List);
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[0], root);
  EXPECT_EQ(list.items[1], root);
}

TEST(Unpickle, Protocol0Text) {
  Graph g;
  const std::string data =
      "(lp0\nI1\naI01\naL-12345678901234567890123L\naF-0.5\naS'a\\nb\\x41'\np1\n"
      "aVx\\u00e9\\\\u\np2\nag1\na.";
  const NodeId root = read(data, g);
  const Node& list = g.at(root);
  ASSERT_EQ(list.items.size(), 7u);
  EXPECT_EQ(g.at(list.items[0]).int_value, 1);
  EXPECT_EQ(g.at(list.items[1]).kind, NodeKind::Bool);
  EXPECT_EQ(g.at(list.items[2]).kind, NodeKind::BigInt);
  EXPECT_EQ(g.at(list.items[3]).float_value, -0.5);
  EXPECT_EQ(g.at(list.items[4]).text, "a\nbA");
  EXPECT_EQ(g.at(list.items[5]).text, "x\xc3\xa9\\\\u");
  EXPECT_EQ(list.items[6], list.items[4]);  // GET 1 is the same string node
}

TEST(Unpickle, WideIntsThatFitBecomeInt) {
  Graph g;
  // LONG1 with redundant sign bytes: -2 in 9 bytes.
  const NodeId root = read(proto2(std::string("\x8a\x09\xfe\xff\xff\xff\xff\xff\xff\xff\xff", 11)), g);
  EXPECT_EQ(g.at(root).kind, NodeKind::Int);
  EXPECT_EQ(g.at(root).int_value, -2);
}

TEST(Unpickle, ObjectsTakeAppendsSetItemsAndBuild) {
  Graph g;
  const std::string data =
      proto2(raw("ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00" "aK\x01s}b"));
  const NodeId root = read(data, g);
  EXPECT_TRUE(g.is_instance(root, "collections", "OrderedDict"));
  EXPECT_EQ(g.at(root).entries.size(), 1u);
  EXPECT_NE(g.at(root).state, kNoNode);
  EXPECT_EQ(g.get(root, "a"), g.at(root).entries[0].second);
}

TEST(Unpickle, PersistentIdsStaySymbolic) {
  Graph g;
  // Protocol 0 PERSID carries text; BINPERSID takes the tuple torch.save writes.
  const NodeId text = read("Pstorage7\n.", g);
  ASSERT_EQ(g.at(text).kind, NodeKind::PersistentId);
  EXPECT_TRUE(g.is_str(g.at(text).pid, "storage7"));
  const std::string torch_like = proto2(raw(
      "(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00"
      "cpuK\x04tQ"));
  const NodeId pid = read(torch_like, g);
  ASSERT_EQ(g.at(pid).kind, NodeKind::PersistentId);
  const Node& tuple = g.at(g.at(pid).pid);
  ASSERT_EQ(tuple.items.size(), 5u);
  EXPECT_TRUE(g.is_global(tuple.items[1], "torch", "FloatStorage"));
  const std::string written = pickle(g, pid);
  EXPECT_NE(written.find('Q'), std::string::npos);
  Graph back;
  EXPECT_EQ(back.at(read(written, back)).kind, NodeKind::PersistentId);
}

TEST(Unpickle, IgnoresBytesAfterStop) {
  Graph g;
  const NodeId root = read(proto2("N") + "garbage\xff", g);
  EXPECT_EQ(g.at(root).kind, NodeKind::None);
}

// ---- errors: every one an InputError naming the origin, the offset and the opcode

void expect_error(const std::string& data, const std::string& fragment,
                  const UnpickleLimits& limits = {}) {
  Graph g;
  try {
    unpickle(data, g, "bad.pkl", limits);
    ADD_FAILURE() << "no error; expected one mentioning: " << fragment;
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("bad.pkl: offset ", 0), 0u) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(UnpickleErrors, UnknownOpcode) {
  expect_error(std::string("\x80\x02\xff", 3), "offset 2: unknown opcode 0xff");
}

TEST(UnpickleErrors, Truncated) {
  expect_error(std::string("\x80\x02X\x05\x00\x00\x00" "ab", 9),
               "truncated stream: needs 5 byte(s), only 2 left (opcode 0x58 'BINUNICODE')");
  expect_error(std::string("\x80\x02N", 3), "offset 3: truncated stream: it ends without a STOP");
  expect_error("cos\nsys", "text argument has no newline (opcode 0x63 'GLOBAL')");
}

TEST(UnpickleErrors, StackAndMarkProblems) {
  expect_error(proto2("Ne"), "unbalanced MARK");
  expect_error(proto2("a"), "stack underflow");
  expect_error(proto2("](a"), "no value above the last MARK");
  expect_error(proto2("(Ns"), "stack underflow");
}

TEST(UnpickleErrors, MemoMiss) {
  expect_error(proto2("N\x94h\x05"), "memo key 5 not found (a GET before its PUT) (opcode 0x68 'BINGET')");
  expect_error("g3\n.", "memo key 3 not found");
}

TEST(UnpickleErrors, BuildTwiceOrOnNonObject) {
  expect_error(proto2("cm\nC\n)\x81}b}b"), "BUILD applied twice to the same m.C object");
  expect_error(proto2("]}b"), "BUILD applies state to a list");
}

TEST(UnpickleErrors, UnsupportedFeatures) {
  expect_error(std::string("\x80\x05\x97", 3), "out-of-band buffers unsupported");
  expect_error(std::string("\x80\x05\x98", 3), "out-of-band buffers unsupported");
  expect_error(std::string("\x80\x02\x82\x01", 4), "extension registry");
  expect_error(std::string("\x80\x06N.", 4), "unsupported pickle protocol 6");
  expect_error(proto2("cm\nf\n]R"), "REDUCE arguments must be a tuple, got list");
  expect_error(proto2("K\x01K\x02\x93"), "STACK_GLOBAL needs two str");
}

TEST(UnpickleErrors, HugeDeclaredLengths) {
  expect_error(std::string("\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x40" "abc", 14),
               "needs 4611686018427387904 byte(s), only 3 left (opcode 0x8d 'BINUNICODE8')");
  expect_error(std::string("\x80\x02\x8b\xff\xff\xff\xff", 7), "negative byte count -1");
  expect_error(std::string("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f" "N.", 13), "frame of");
  expect_error(std::string("L") + std::string(5000, '9') + "L\n.", "longer than 4300 digits");
}

constexpr std::size_t kMillion = 1'000'000;

TEST(UnpickleErrors, MillionDeepListsViaAppend) {
  const std::string data = std::string("\x80\x02", 2) + std::string(kMillion, ']') +
                           std::string(kMillion - 1, 'a') + ".";
  expect_error(data, "structure nests deeper than 2000 levels (limit) (opcode 0x61 'APPEND')");
}

TEST(UnpickleErrors, MillionDeepTuples) {
  const std::string data =
      std::string("\x80\x02)", 3) + std::string(kMillion, '\x85') + ".";
  expect_error(data, "nests deeper than 2000 levels (limit) (opcode 0x85 'TUPLE1')");
}

TEST(UnpickleErrors, DeepNestingBuiltByLaterAppends) {
  // Lists L0..Ln are memoized first, then L[i] gets L[i+1] appended: each APPEND looks
  // shallow on its own; only the walk of the result sees the chain.
  std::string data("\x80\x02", 2);
  const int n = 3000;
  auto index = [](int i) { return std::string(reinterpret_cast<const char*>(&i), 4); };
  for (int i = 0; i <= n; ++i) data += "]r" + index(i) + "0";
  for (int i = 0; i < n; ++i) data += "j" + index(i) + "j" + index(i + 1) + "a0";
  data += "j" + index(0) + ".";
  expect_error(data, "the result nests deeper than 2000 levels (limit) (opcode 0x2e 'STOP')");
  Graph g;
  UnpickleLimits roomy;
  roomy.max_depth = 5000;
  EXPECT_NO_THROW(unpickle(data, g, "deep.pkl", roomy));
}

TEST(UnpickleErrors, CountLimits) {
  UnpickleLimits few;
  few.max_nodes = 3;
  expect_error(proto2("(NNNNl"), "more than 3 objects (limit)", few);
  UnpickleLimits small_memo;
  small_memo.max_memo = 2;
  expect_error(proto2("N\x94\x94N\x94"), "memo holds more than 2 entries", small_memo);
  UnpickleLimits small_stack;
  small_stack.max_stack = 4;
  expect_error(proto2("NN(NN"), "stack holds more than 4 entries", small_stack);
}

// ---- graphs built in C++

// A graph with most kinds of node, sharing and a cycle through an OrderedDict.
NodeId sample_graph(Graph& g) {
  const NodeId shared = g.list({g.integer(1), g.str("x")});
  Node big;
  big.kind = NodeKind::BigInt;
  big.text = std::string(300, '\x11');  // > 255 bytes: LONG4
  Node bytes;
  bytes.kind = NodeKind::Bytes;
  bytes.text = std::string("\x00\xff z", 4);
  Node set;
  set.kind = NodeKind::FrozenSet;
  set.items = {g.integer(3), g.str("s")};
  const NodeId od = g.ordered_dict();
  const NodeId root = g.dict({{g.str("shared"), shared},
                              {g.str("again"), shared},
                              {g.str("od"), od},
                              {g.str("big"), g.add(big)},
                              {g.str("bytes"), g.add(bytes)},
                              {g.str("set"), g.add(set)},
                              {g.str("floats"), g.tuple({g.floating(-0.0), g.floating(1e300)})},
                              {g.str("ints"), g.tuple({g.integer(-1), g.integer(70000),
                                                       g.integer(INT64_MIN), g.boolean(true)})}});
  const NodeId key = g.str("parent");  // made first: adding nodes moves the others
  g.at(od).entries.emplace_back(key, root);
  return root;
}

TEST(Pickle, GraphRoundTripKeepsSharingAndCycles) {
  Graph g;
  const NodeId root = sample_graph(g);
  const std::string bytes = pickle(g, root);
  Graph back;
  const NodeId copy = read(bytes, back);
  EXPECT_EQ(back.get(copy, "shared"), back.get(copy, "again"));
  EXPECT_EQ(back.get(back.get(copy, "od"), "parent"), copy);
  EXPECT_EQ(back.at(back.get(copy, "big")).text, std::string(300, '\x11'));
  EXPECT_EQ(pickle(back, copy), bytes);
}

TEST(Pickle, RecursiveTupleMatchesCPython) {
  // Python: a = []; t = (a,); a.append(t); pickle.dumps(t, 2)
  Graph g;
  const NodeId list = g.list({});
  const NodeId tuple = g.tuple({list});
  g.at(list).items.push_back(tuple);
  EXPECT_EQ(pickle(g, tuple), std::string("\x80\x02]q\x00h\x00\x85q\x01" "a0h\x01.", 15));
  // Four elements: MARK ... POP_MARK instead of POPs.
  Graph g4;
  const NodeId l4 = g4.list({});
  const NodeId t4 = g4.tuple({l4, g4.none(), g4.none(), g4.none()});
  g4.at(l4).items.push_back(t4);
  const std::string four = pickle(g4, t4);
  EXPECT_NE(four.find("1h\x01", 0), std::string::npos);  // POP_MARK BINGET 1
}

TEST(Pickle, BatchesAppendsByThousand) {
  Graph g;
  std::vector<NodeId> items(2001, g.none());
  const std::string bytes = pickle(g, g.list(items));
  // Two MARK ... APPENDS batches of 1000, then one lone APPEND.
  EXPECT_EQ(bytes, std::string("\x80\x02]q\x00(", 6) + std::string(1000, 'N') + "e(" +
                       std::string(1000, 'N') + "eNa.");
}

TEST(Pickle, MillionDeepGraphDoesNotOverflow) {
  Graph g;
  NodeId inner = g.list({});
  for (std::size_t i = 0; i < kMillion; ++i) inner = g.list({inner});
  std::string bytes;
  ASSERT_NO_THROW(bytes = pickle(g, inner));
  expect_error(bytes, "nests deeper than 2000 levels");
}

TEST(Pickle, RejectsWhatProtocol2CannotExpress) {
  Graph g;
  const NodeId t = g.tuple({});
  g.at(t).items.push_back(t);  // a tuple holding itself directly
  EXPECT_THROW(pickle(g, t), InputError);
  Graph s;
  Node set;
  set.kind = NodeKind::Set;
  const NodeId set_id = s.add(set);
  const NodeId holder = s.list({set_id});
  const NodeId element = s.tuple({holder});
  s.at(set_id).items.push_back(element);
  try {
    pickle(s, set_id);
    ADD_FAILURE() << "a set inside its own elements was written";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("its own constructor arguments"), std::string::npos)
        << e.what();
  }
}

TEST(Pickle, DottedGlobalNamesGoThroughGetattr) {
  Graph g;
  const std::string bytes = pickle(g, g.global("pkg.mod", "Outer.Inner"));
  EXPECT_NE(bytes.find("c__builtin__\ngetattr\n"), std::string::npos);
  EXPECT_NE(bytes.find("cpkg.mod\nOuter\n"), std::string::npos);
}

TEST(Unpickle, EveryPrefixOfAStreamFailsCleanly) {
  Graph g;
  const std::string bytes = pickle(g, sample_graph(g));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Graph partial;
    EXPECT_THROW(unpickle(bytes.substr(0, n), partial, "prefix"), InputError) << n;
  }
  // Flipping bytes must never crash: either it still parses or it is an InputError.
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string mutated = bytes;
      mutated[i] = static_cast<char>(mutated[i] ^ flip);
      Graph m;
      try {
        const NodeId root = unpickle(mutated, m, "mutated");
        (void)pickle(m, root);
      } catch (const InputError&) {
      }
    }
  }
}

}  // namespace
}  // namespace fsdpshard
