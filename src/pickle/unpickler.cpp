// What each pickle opcode means to the symbolic machine. CPython's Lib/pickle.py
// (Unpickler.load_*) and Modules/_pickle.c are the reference for the semantics; where
// they would import or call something, we build a node instead.
#include "fsdpshard/pickle/unpickler.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "pickle/graph_walk.h"
#include "pickle/pickle_longs.h"
#include "pickle/pickle_opcodes.h"
#include "pickle/pickle_text.h"
#include "pickle/unpickle_machine.h"
#include "util/utf8.h"

namespace fsdpshard {
namespace {

namespace op = pickle_op;
using unpickle_detail::Machine;

constexpr int kHighestProtocol = 5;

Node leaf(NodeKind kind) {
  Node n;
  n.kind = kind;
  return n;
}

Node text_node(NodeKind kind, std::string_view text, bool flag = false) {
  Node n = leaf(kind);
  n.text = std::string(text);
  n.flag = flag;
  return n;
}

// A str as Python's unpickler decodes it: BINUNICODE* with 'surrogatepass' (lone
// surrogates pass, as pickle writes them), Python 2 strings (STRING, BINSTRING) as strict
// UTF-8, torch.load's encoding. What Python cannot decode, torch.load cannot load.
Node str_node(const Machine& m, std::string_view bytes, bool python2) {
  const std::size_t bad = utf8::first_invalid(bytes, /*allow_surrogates=*/!python2);
  if (bad != utf8::kValid) {
    m.fail("string '" + utf8::printable(bytes.substr(0, 200)) + "' is not UTF-8 at byte " + std::to_string(bad) +
           " (torch.load cannot decode it either)");
  }
  return text_node(NodeKind::Str, bytes);
}

Node sequence(NodeKind kind, std::vector<NodeId> items) {
  Node n = leaf(kind);
  n.items = std::move(items);
  return n;
}

class Unpickler {
 public:
  Unpickler(std::string_view stream, Graph& graph, std::string_view origin,
            const UnpickleLimits& limits)
      : m_(stream, graph, origin, limits), g_(graph) {}

  NodeId run() {
    while (true) {
      if (m_.at_end()) {
        m_.end_opcode();
        m_.fail("truncated stream: it ends without a STOP opcode");
      }
      const uint8_t code = m_.begin_opcode();
      try {
        if (execute(code)) return result_;
      } catch (const std::invalid_argument& e) {
        // Text decoders report the problem; the machine adds where it happened.
        m_.fail(e.what());
      }
    }
  }

  Machine& machine() { return m_; }

 private:
  // Returns true at STOP.
  bool execute(uint8_t code);

  // ---- helpers for opcode families
  NodeId int_node(int64_t value) {
    Node n = leaf(NodeKind::Int);
    n.int_value = value;
    return m_.make(std::move(n));
  }
  NodeId long_node(std::string_view twos_complement) {
    const std::string minimal = pickle_long::minimal(twos_complement);
    if (const auto small = pickle_long::to_int64(minimal)) return int_node(*small);
    return m_.make(text_node(NodeKind::BigInt, minimal));
  }
  NodeId bool_node(bool value) {
    Node n = leaf(NodeKind::Bool);
    n.flag = value;
    return m_.make(std::move(n));
  }
  NodeId float_node(double value) {
    Node n = leaf(NodeKind::Float);
    n.float_value = value;
    return m_.make(std::move(n));
  }
  NodeId decimal_int(std::string_view text) { return long_node(pickle_long::from_decimal(text)); }
  double float_from_text(std::string_view text);
  uint64_t memo_key_from_text(std::string_view text);
  NodeId global_node(std::string_view module, std::string_view name) {
    Node n = text_node(NodeKind::Global, module);
    n.name = std::string(name);
    return m_.make(std::move(n));
  }
  NodeId object_node(Construct construct, NodeId callable, NodeId args,
                     NodeId kwargs = kNoNode) {
    Node n = leaf(NodeKind::Object);
    n.construct = construct;
    n.callable = callable;
    n.args = args;
    n.kwargs = kwargs;
    return m_.make(std::move(n));
  }
  void require_kind(NodeId id, NodeKind kind, const char* what) {
    if (g_.at(id).kind != kind) {
      m_.fail(std::string(what) + ", got " + g_.type_name(id));
    }
  }
  void append_to(NodeId target, const std::vector<NodeId>& values);
  void set_items_of(NodeId target, const std::vector<NodeId>& flat_pairs);
  void add_to_set(NodeId target, const std::vector<NodeId>& values);
  void build(NodeId target, NodeId state);
  NodeId instantiate(NodeId cls, std::vector<NodeId> args);

  Machine m_;
  Graph& g_;
  NodeId result_ = kNoNode;
};

double Unpickler::float_from_text(std::string_view text) {
  // Python's float() also takes surrounding blanks and a '+' sign; from_chars takes neither.
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    m_.fail("invalid float text '" + std::string(text.substr(0, 40)) + "'");
  }
  return value;
}

uint64_t Unpickler::memo_key_from_text(std::string_view text) {
  uint64_t key = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), key);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    m_.fail("invalid memo key '" + std::string(text.substr(0, 40)) + "'");
  }
  return key;
}

void Unpickler::append_to(NodeId target, const std::vector<NodeId>& values) {
  Node& node = g_.at(target);
  // Python calls obj.append / obj.extend for non-lists: an Object keeps them as items.
  if (node.kind != NodeKind::List && node.kind != NodeKind::Object) {
    m_.fail("cannot append to a " + g_.type_name(target));
  }
  for (NodeId v : values) {
    g_.at(target).items.push_back(v);
    m_.grew(target, v);
  }
}

void Unpickler::set_items_of(NodeId target, const std::vector<NodeId>& flat_pairs) {
  const NodeKind kind = g_.at(target).kind;
  // Python calls obj[key] = value: OrderedDict/defaultdict objects keep them as entries.
  if (kind != NodeKind::Dict && kind != NodeKind::Object) {
    m_.fail("cannot set items of a " + g_.type_name(target));
  }
  if (flat_pairs.size() % 2 != 0) m_.fail("odd number of values for key/value pairs");
  for (std::size_t i = 0; i < flat_pairs.size(); i += 2) {
    g_.at(target).entries.emplace_back(flat_pairs[i], flat_pairs[i + 1]);
    m_.grew(target, flat_pairs[i]);
    m_.grew(target, flat_pairs[i + 1]);
  }
}

void Unpickler::add_to_set(NodeId target, const std::vector<NodeId>& values) {
  if (g_.at(target).kind != NodeKind::Set) m_.fail("cannot add set items to a " + g_.type_name(target));
  for (NodeId v : values) {
    g_.at(target).items.push_back(v);
    m_.grew(target, v);
  }
}

// INST / OBJ (protocols 0-1): Python calls cls(*args), but cls.__new__(cls) when there
// are no arguments (Unpickler._instantiate); NEWOBJ says the latter for us.
NodeId Unpickler::instantiate(NodeId cls, std::vector<NodeId> args) {
  const Construct how = args.empty() ? Construct::NewObj : Construct::Reduce;
  const NodeId tuple = m_.make(sequence(NodeKind::Tuple, std::move(args)));
  return object_node(how, cls, tuple);
}

void Unpickler::build(NodeId target, NodeId state) {
  Node& node = g_.at(target);
  if (node.kind != NodeKind::Object) {
    m_.fail("BUILD applies state to a " + g_.type_name(target) +
            "; only objects made by REDUCE/NEWOBJ/INST/OBJ take state");
  }
  if (node.state != kNoNode) {
    m_.fail("BUILD applied twice to the same " + g_.type_name(target) +
            " object; a pickler never does that");
  }
  node.state = state;
  m_.grew(target, state);
}

bool Unpickler::execute(uint8_t code) {
  switch (code) {
    // ---- framing and control
    case op::PROTO: {
      const auto proto = m_.read_uint(1);
      if (proto > kHighestProtocol) m_.fail("unsupported pickle protocol " + std::to_string(proto));
      return false;
    }
    case op::FRAME: {
      // Frames only tell a reader how much to prefetch; the opcodes inside are ordinary.
      const uint64_t size = m_.read_uint(8);
      if (size > m_.remaining()) {
        m_.fail("truncated stream: frame of " + std::to_string(size) + " bytes, only " +
                std::to_string(m_.remaining()) + " left");
      }
      return false;
    }
    case op::STOP:
      // Like Python, bytes after STOP are not ours to read.
      result_ = m_.pop();
      return true;
    case op::MARK: m_.push_mark(); return false;
    case op::POP:
      // Python's POP discards a bare MARK when nothing was pushed after it.
      if (m_.has_value_above_mark() || !m_.has_mark()) {
        m_.pop();
      } else {
        m_.drop_mark();
      }
      return false;
    case op::POP_MARK: m_.pop_to_mark(); return false;
    case op::DUP: m_.push(m_.top()); return false;

    // ---- scalars
    case op::NONE: m_.push(m_.make(leaf(NodeKind::None))); return false;
    case op::NEWTRUE: m_.push(bool_node(true)); return false;
    case op::NEWFALSE: m_.push(bool_node(false)); return false;
    case op::INT: {
      const std::string_view text = m_.read_line();
      // Protocol 0 spells booleans as INT 01 / 00.
      if (text == "01" || text == "00") {
        m_.push(bool_node(text == "01"));
      } else {
        m_.push(decimal_int(text));
      }
      return false;
    }
    case op::LONG: {
      std::string_view text = m_.read_line();
      if (!text.empty() && text.back() == 'L') text.remove_suffix(1);
      m_.push(decimal_int(text));
      return false;
    }
    case op::BININT: m_.push(int_node(m_.read_int32())); return false;
    case op::BININT1: m_.push(int_node(static_cast<int64_t>(m_.read_uint(1)))); return false;
    case op::BININT2: m_.push(int_node(static_cast<int64_t>(m_.read_uint(2)))); return false;
    case op::LONG1: m_.push(long_node(m_.take(m_.read_uint(1)))); return false;
    case op::LONG4: {
      const int32_t size = m_.read_int32();
      if (size < 0) m_.fail("negative byte count " + std::to_string(size));
      m_.push(long_node(m_.take(static_cast<uint64_t>(size))));
      return false;
    }
    case op::FLOAT: m_.push(float_node(float_from_text(m_.read_line()))); return false;
    case op::BINFLOAT: m_.push(float_node(m_.read_big_endian_double())); return false;

    // ---- strings and bytes
    case op::STRING: {
      const std::string_view text = m_.read_line();
      if (text.size() < 2 || text.front() != text.back() ||
          (text.front() != '\'' && text.front() != '"')) {
        m_.fail("the STRING argument must be quoted");
      }
      // Python 2 str; torch.load decodes these as UTF-8, so they become str here too.
      const std::string bytes = pickle_text::escape_decode(text.substr(1, text.size() - 2));
      m_.push(m_.make(str_node(m_, bytes, /*python2=*/true)));
      return false;
    }
    case op::BINSTRING: {
      const int32_t size = m_.read_int32();
      if (size < 0) m_.fail("negative byte count " + std::to_string(size));
      m_.push(m_.make(str_node(m_, m_.take(static_cast<uint64_t>(size)), /*python2=*/true)));
      return false;
    }
    case op::SHORT_BINSTRING:
      m_.push(m_.make(str_node(m_, m_.take(m_.read_uint(1)), /*python2=*/true)));
      return false;
    case op::UNICODE:
      m_.push(m_.make(
          text_node(NodeKind::Str, pickle_text::raw_unicode_escape_decode(m_.read_line()))));
      return false;
    case op::SHORT_BINUNICODE:
      m_.push(m_.make(str_node(m_, m_.take(m_.read_uint(1)), /*python2=*/false)));
      return false;
    case op::BINUNICODE:
      m_.push(m_.make(str_node(m_, m_.take(m_.read_uint(4)), /*python2=*/false)));
      return false;
    case op::BINUNICODE8:
      m_.push(m_.make(str_node(m_, m_.take(m_.read_uint(8)), /*python2=*/false)));
      return false;
    case op::SHORT_BINBYTES:
      m_.push(m_.make(text_node(NodeKind::Bytes, m_.take(m_.read_uint(1)))));
      return false;
    case op::BINBYTES:
      m_.push(m_.make(text_node(NodeKind::Bytes, m_.take(m_.read_uint(4)))));
      return false;
    case op::BINBYTES8:
      m_.push(m_.make(text_node(NodeKind::Bytes, m_.take(m_.read_uint(8)))));
      return false;
    case op::BYTEARRAY8:
      m_.push(m_.make(text_node(NodeKind::Bytes, m_.take(m_.read_uint(8)), /*flag=*/true)));
      return false;
    case op::NEXT_BUFFER:
    case op::READONLY_BUFFER:
      m_.fail("out-of-band buffers unsupported: the data of this pickle lives outside it");

    // ---- tuples, lists, dicts, sets
    case op::EMPTY_TUPLE: m_.push(m_.make(sequence(NodeKind::Tuple, {}))); return false;
    case op::TUPLE: m_.push(m_.make(sequence(NodeKind::Tuple, m_.pop_to_mark()))); return false;
    case op::TUPLE1:
    case op::TUPLE2:
    case op::TUPLE3: {
      std::vector<NodeId> items(static_cast<std::size_t>(code - op::TUPLE1 + 1));
      for (std::size_t i = items.size(); i-- > 0;) items[i] = m_.pop();
      m_.push(m_.make(sequence(NodeKind::Tuple, std::move(items))));
      return false;
    }
    case op::EMPTY_LIST: m_.push(m_.make(sequence(NodeKind::List, {}))); return false;
    case op::LIST: m_.push(m_.make(sequence(NodeKind::List, m_.pop_to_mark()))); return false;
    case op::EMPTY_DICT: m_.push(m_.make(leaf(NodeKind::Dict))); return false;
    case op::DICT: {
      const std::vector<NodeId> flat = m_.pop_to_mark();
      const NodeId dict = m_.make(leaf(NodeKind::Dict));
      set_items_of(dict, flat);
      m_.push(dict);
      return false;
    }
    case op::EMPTY_SET: m_.push(m_.make(sequence(NodeKind::Set, {}))); return false;
    case op::FROZENSET:
      m_.push(m_.make(sequence(NodeKind::FrozenSet, m_.pop_to_mark())));
      return false;
    case op::APPEND: {
      const NodeId value = m_.pop();
      append_to(m_.top(), {value});
      return false;
    }
    case op::APPENDS: {
      const std::vector<NodeId> values = m_.pop_to_mark();
      append_to(m_.top(), values);
      return false;
    }
    case op::SETITEM: {
      const NodeId value = m_.pop();
      const NodeId key = m_.pop();
      set_items_of(m_.top(), {key, value});
      return false;
    }
    case op::SETITEMS: {
      const std::vector<NodeId> flat = m_.pop_to_mark();
      set_items_of(m_.top(), flat);
      return false;
    }
    case op::ADDITEMS: {
      const std::vector<NodeId> values = m_.pop_to_mark();
      add_to_set(m_.top(), values);
      return false;
    }

    // ---- classes and objects: names and nodes, never imports or calls
    case op::GLOBAL: {
      const std::string module(m_.read_line());
      const std::string name(m_.read_line());
      m_.push(global_node(module, name));
      return false;
    }
    case op::STACK_GLOBAL: {
      const NodeId name = m_.pop();
      const NodeId module = m_.pop();
      if (g_.at(name).kind != NodeKind::Str || g_.at(module).kind != NodeKind::Str) {
        m_.fail("STACK_GLOBAL needs two str, got " + g_.type_name(module) + " and " +
                g_.type_name(name));
      }
      m_.push(global_node(g_.at(module).text, g_.at(name).text));
      return false;
    }
    case op::INST: {
      const std::string module(m_.read_line());
      const std::string name(m_.read_line());
      std::vector<NodeId> args = m_.pop_to_mark();
      m_.push(instantiate(global_node(module, name), std::move(args)));
      return false;
    }
    case op::OBJ: {
      std::vector<NodeId> items = m_.pop_to_mark();
      if (items.empty()) m_.fail("OBJ needs a class after the MARK");
      const NodeId cls = items.front();
      items.erase(items.begin());
      m_.push(instantiate(cls, std::move(items)));
      return false;
    }
    case op::REDUCE: {
      const NodeId args = m_.pop();
      const NodeId callable = m_.pop();
      require_kind(args, NodeKind::Tuple, "REDUCE arguments must be a tuple");
      m_.push(object_node(Construct::Reduce, callable, args));
      return false;
    }
    case op::NEWOBJ: {
      const NodeId args = m_.pop();
      const NodeId cls = m_.pop();
      require_kind(args, NodeKind::Tuple, "NEWOBJ arguments must be a tuple");
      m_.push(object_node(Construct::NewObj, cls, args));
      return false;
    }
    case op::NEWOBJ_EX: {
      const NodeId kwargs = m_.pop();
      const NodeId args = m_.pop();
      const NodeId cls = m_.pop();
      require_kind(args, NodeKind::Tuple, "NEWOBJ_EX arguments must be a tuple");
      require_kind(kwargs, NodeKind::Dict, "NEWOBJ_EX keyword arguments must be a dict");
      m_.push(object_node(Construct::NewObjEx, cls, args, kwargs));
      return false;
    }
    case op::BUILD: {
      const NodeId state = m_.pop();
      build(m_.top(), state);
      return false;
    }
    case op::EXT1:
    case op::EXT2:
    case op::EXT4:
      m_.fail("extension registry codes (copyreg.add_extension) are unsupported");
    case op::PERSID: {
      const NodeId pid = m_.make(text_node(NodeKind::Str, m_.read_line()));
      Node n = leaf(NodeKind::PersistentId);
      n.pid = pid;
      m_.push(m_.make(std::move(n)));
      return false;
    }
    case op::BINPERSID: {
      Node n = leaf(NodeKind::PersistentId);
      n.pid = m_.pop();
      m_.push(m_.make(std::move(n)));
      return false;
    }

    // ---- the memo: identity is the NodeId, so GET shares, never copies
    case op::PUT: m_.memo_put(memo_key_from_text(m_.read_line()), m_.top()); return false;
    case op::BINPUT: m_.memo_put(m_.read_uint(1), m_.top()); return false;
    case op::LONG_BINPUT: m_.memo_put(m_.read_uint(4), m_.top()); return false;
    case op::MEMOIZE: m_.memo_put(m_.memo_size(), m_.top()); return false;
    case op::GET: m_.push(m_.memo_get(memo_key_from_text(m_.read_line()))); return false;
    case op::BINGET: m_.push(m_.memo_get(m_.read_uint(1))); return false;
    case op::LONG_BINGET: m_.push(m_.memo_get(m_.read_uint(4))); return false;

    default: {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", code);
      m_.fail(std::string("unknown opcode ") + hex + " (not a pickle, or a corrupted one)");
    }
  }
}

}  // namespace

NodeId unpickle(std::string_view stream, Graph& graph, std::string_view origin,
                const UnpickleLimits& limits) {
  Unpickler unpickler(stream, graph, origin, limits);
  const NodeId root = unpickler.run();
  // The per-node depths seen while parsing miss one trick: nesting built by mutating a
  // container after it was already placed inside another. One walk of the result
  // settles it, so later recursive consumers can trust max_depth.
  if (graph_walk::nesting_depth(graph, root, limits.max_depth) > limits.max_depth) {
    unpickler.machine().fail("the result nests deeper than " + std::to_string(limits.max_depth) +
                             " levels (limit)");
  }
  graph.root = root;
  return root;
}

}  // namespace fsdpshard
