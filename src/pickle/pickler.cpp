// Writes a Graph as protocol 2 the way CPython's pickler would (Lib/pickle.py is the
// reference for order and memoization), with an explicit work stack instead of
// recursion so that no graph, however deep, can overflow the C++ stack.
//
// Identity and cycles: a mutable container or object is memoized (BINPUT) as soon as
// it exists on the unpickler's stack (EMPTY_LIST / EMPTY_DICT / after REDUCE), before
// its contents, so a child that refers back to it gets a BINGET. Tuples are built from
// their finished elements; when one reaches itself through a mutable element, CPython
// writes it a second time inside, then drops the outer copy's elements (POP / POP_MARK)
// and fetches the memoized inner one; so do we.
#include "fsdpshard/pickle/pickler.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "fsdpshard/util/error.h"
#include "pickle/pickle_opcodes.h"
#include "pickle/pickle_text.h"
#include "pickle/pickle_writer.h"

namespace fsdpshard {
namespace {

namespace op = pickle_op;
using pickle_detail::PickleWriter;

constexpr std::size_t kBatchSize = 1000;  // CPython's _BATCHSIZE for APPENDS/SETITEMS
constexpr uint32_t kNotMemoized = 0;

enum class Stage : uint8_t {
  Start,         // nothing written yet for this frame's node
  TupleItems,    // writing tuple elements
  ListItems,     // APPEND(S) batches of a list
  DictEntries,   // SETITEM(S) batches of a dict
  SetItems,      // APPENDS into the list argument of set([...])
  ObjectParts,   // callable, args (, kwargs)
  ObjectItems,   // APPEND(S) batches an object received
  ObjectEntries, // SETITEM(S) batches an object received
  ObjectState,   // BUILD state
  PersistentId,  // the pid, then BINPERSID
};

struct Frame {
  NodeId id;
  Stage stage = Stage::Start;
  std::size_t pos = 0;          // next child slot of the current stage
  std::size_t batch_start = 0;  // current APPENDS/SETITEMS batch, in slots
  std::size_t batch_end = 0;
  uint64_t memo_at_start = 0;   // memo size when this frame began (tuple cycle check)
  uint32_t outer_same = 0;      // tuples: 1 + index of an enclosing frame of the same tuple
};

class Pickler {
 public:
  explicit Pickler(const Graph& graph)
      : g_(graph), memo_(graph.size(), kNotMemoized), building_(graph.size(), 0),
        open_tuple_(graph.size(), 0) {}

  std::string run(NodeId root) {
    if (root == kNoNode || root >= g_.size()) throw InputError("pickle: no object to write");
    w_.op(op::PROTO);
    w_.op(2);
    save(root);
    while (!work_.empty()) step();
    w_.op(op::STOP);
    return std::move(w_.bytes());
  }

 private:
  [[noreturn]] void fail(NodeId id, const std::string& problem) const {
    throw InputError("pickle: cannot write " + g_.type_name(id) + " (node " +
                     std::to_string(id) + "): " + problem);
  }

  // Schedules `id` to be written next (before whatever frame is on top resumes).
  void save(NodeId id) {
    if (id == kNoNode || id >= g_.size()) throw InputError("pickle: a node refers to a missing node");
    Frame f;
    f.id = id;
    f.memo_at_start = next_memo_;
    work_.push_back(f);
  }

  void memoize(NodeId id) {
    memo_[id] = static_cast<uint32_t>(next_memo_ + 1);
    memoize_anonymous();
  }
  // The helper values CPython creates on the fly (set's list, bytes' arguments) get
  // memo slots too, as CPython gives them: then re-reading our output and writing it
  // again yields the same bytes.
  void memoize_anonymous() { w_.memo_put(next_memo_++); }

  void step();
  void start(Frame& f);
  void write_global(std::string_view module, std::string_view name);
  void write_bytes(const Node& node);
  bool batch(Frame& f, std::size_t slots, std::size_t width, uint8_t one, uint8_t many);
  void finish_tuple(Frame& f);
  void finish_object_parts(Frame& f);
  void next_object_stage(Frame& f);

  const Graph& g_;
  PickleWriter w_;
  std::vector<Frame> work_;
  std::vector<uint32_t> memo_;       // per node: memo index + 1, or kNotMemoized
  std::vector<uint8_t> building_;    // per node: its constructor's arguments are being written
  std::vector<uint32_t> open_tuple_; // per tuple: 1 + index of its innermost open frame
  std::unordered_map<std::string, uint64_t> global_memo_;  // "module\nname" -> memo index
  uint64_t next_memo_ = 0;
};

// A class is a singleton by name, so one GLOBAL per name serves every reference.
void Pickler::write_global(std::string_view module, std::string_view name) {
  std::string key(module);
  key += '\n';
  key += name;
  if (const auto it = global_memo_.find(key); it != global_memo_.end()) {
    w_.memo_get(it->second);
    return;
  }
  // Protocol 2 readers look names up with a plain getattr, so a dotted (nested) name is
  // written as getattr(getattr(module.A, 'B'), 'C'), like CPython does below protocol 4.
  std::size_t end = name.find('.');
  if (end == std::string_view::npos) {
    w_.global(module, name);
  } else {
    const auto dots = static_cast<std::size_t>(std::count(name.begin(), name.end(), '.'));
    for (std::size_t i = 0; i < dots; ++i) write_global("__builtin__", "getattr");
    write_global(module, name.substr(0, end));
  }
  while (end != std::string_view::npos) {
    const std::size_t next = name.find('.', end + 1);
    w_.unicode(name.substr(end + 1, next == std::string_view::npos ? next : next - end - 1));
    memoize_anonymous();
    w_.op(op::TUPLE2);
    memoize_anonymous();
    w_.op(op::REDUCE);
    if (next != std::string_view::npos) memoize_anonymous();
    end = next;
  }
  global_memo_.emplace(std::move(key), next_memo_);
  w_.memo_put(next_memo_++);
}

// Protocol 2 has no bytes opcode; CPython writes _codecs.encode(latin-1 text, 'latin1')
// for bytes, and bytearray(latin-1 text, 'latin-1') for bytearray.
void Pickler::write_bytes(const Node& node) {
  if (node.flag) {
    write_global("__builtin__", "bytearray");
  } else {
    write_global("_codecs", "encode");
  }
  w_.unicode(pickle_text::latin1_to_utf8(node.text));
  memoize_anonymous();
  w_.unicode(node.flag ? "latin-1" : "latin1");
  memoize_anonymous();
  w_.op(op::TUPLE2);
  memoize_anonymous();
  w_.op(op::REDUCE);
}

// Writes the slots [0, slots) of the current stage in batches of kBatchSize units of
// `width` slots (1 for items, 2 for key/value), each batch closed by `one` (a single
// unit) or MARK ... `many`. Returns false once every batch is closed.
bool Pickler::batch(Frame& f, std::size_t slots, std::size_t width, uint8_t one, uint8_t many) {
  if (f.pos == f.batch_end) {
    if (f.batch_end > f.batch_start) {
      w_.op(static_cast<uint8_t>(f.batch_end - f.batch_start == width ? one : many));
      f.batch_start = f.batch_end;
    }
    if (f.pos == slots) return false;
    f.batch_end = f.pos + std::min(kBatchSize * width, slots - f.pos);
    if (f.batch_end - f.batch_start > width) w_.op(op::MARK);
  }
  const Node& node = g_.at(f.id);
  const std::size_t i = f.pos++;
  const bool pairs = width == 2;
  save(pairs ? (i % 2 == 0 ? node.entries[i / 2].first : node.entries[i / 2].second)
             : node.items[i]);
  return true;
}

void Pickler::finish_tuple(Frame& f) {
  const std::size_t n = g_.at(f.id).items.size();
  open_tuple_[f.id] = f.outer_same;
  if (memo_[f.id] != kNotMemoized) {
    // An element led back here and wrote the tuple already: drop our copy's elements.
    if (n <= 3) {
      for (std::size_t i = 0; i < n; ++i) w_.op(op::POP);
    } else {
      w_.op(op::POP_MARK);
    }
    w_.memo_get(memo_[f.id] - 1);
    return;
  }
  static constexpr uint8_t kSmall[] = {op::EMPTY_TUPLE, op::TUPLE1, op::TUPLE2, op::TUPLE3};
  w_.op(n <= 3 ? kSmall[n] : static_cast<uint8_t>(op::TUPLE));
  memoize(f.id);
}

void Pickler::finish_object_parts(Frame& f) {
  const Node& node = g_.at(f.id);
  switch (node.construct) {
    case Construct::Reduce: w_.op(op::REDUCE); break;
    case Construct::NewObj: w_.op(op::NEWOBJ); break;
    case Construct::NewObjEx:
      // (cls, args, kwargs) for copyreg.__newobj_ex__, called by REDUCE.
      w_.op(op::TUPLE3);
      memoize_anonymous();
      w_.op(op::REDUCE);
      break;
  }
  building_[f.id] = 0;
  memoize(f.id);
}

// After REDUCE: what the object received, in CPython's save_reduce order.
void Pickler::next_object_stage(Frame& f) {
  f.pos = f.batch_start = f.batch_end = 0;
  const Node& node = g_.at(f.id);
  if (f.stage == Stage::ObjectParts) {
    f.stage = Stage::ObjectItems;
    if (!node.items.empty()) return;
  }
  if (f.stage == Stage::ObjectItems) {
    f.stage = Stage::ObjectEntries;
    if (!node.entries.empty()) return;
  }
  if (f.stage == Stage::ObjectEntries) {
    f.stage = Stage::ObjectState;
    if (node.state != kNoNode) return;
  }
  work_.pop_back();  // invalidates f
}

void Pickler::start(Frame& f) {
  const NodeId id = f.id;
  const Node& node = g_.at(id);
  if (memo_[id] != kNotMemoized) {
    w_.memo_get(memo_[id] - 1);
    work_.pop_back();
    return;
  }
  if (building_[id]) {
    fail(id, "it refers to itself through its own constructor arguments, which pickle "
             "protocol 2 cannot express");
  }
  switch (node.kind) {
    case NodeKind::None: w_.op(op::NONE); break;
    case NodeKind::Bool: w_.op(static_cast<uint8_t>(node.flag ? op::NEWTRUE : op::NEWFALSE)); break;
    case NodeKind::Int: w_.integer(node.int_value); break;
    case NodeKind::BigInt: w_.long_bytes(node.text); break;
    case NodeKind::Float: w_.floating(node.float_value); break;
    case NodeKind::Str:
      w_.unicode(node.text);
      memoize(id);
      break;
    case NodeKind::Bytes:
      write_bytes(node);
      memoize(id);
      break;
    case NodeKind::Global: write_global(node.text, node.name); break;
    case NodeKind::Tuple:
      if (node.items.empty()) {
        w_.op(op::EMPTY_TUPLE);  // CPython does not memoize the empty tuple
        break;
      }
      if (const uint32_t outer = open_tuple_[id]) {
        // Re-entering a tuple is fine (CPython does it) only if something got memoized
        // since the enclosing copy began; otherwise the walk would never end.
        if (work_[outer - 1].memo_at_start == next_memo_) {
          fail(id, "it contains itself with no list, dict or object in between");
        }
      }
      f.outer_same = open_tuple_[id];
      open_tuple_[id] = static_cast<uint32_t>(work_.size());
      if (node.items.size() > 3) w_.op(op::MARK);
      f.stage = Stage::TupleItems;
      return;
    case NodeKind::List:
      w_.op(op::EMPTY_LIST);
      memoize(id);
      f.stage = Stage::ListItems;
      return;
    case NodeKind::Dict:
      w_.op(op::EMPTY_DICT);
      memoize(id);
      f.stage = Stage::DictEntries;
      return;
    case NodeKind::Set:
    case NodeKind::FrozenSet:
      // CPython below protocol 4: set([items]) / frozenset([items]) by REDUCE.
      building_[id] = 1;
      write_global("__builtin__", node.kind == NodeKind::Set ? "set" : "frozenset");
      w_.op(op::EMPTY_LIST);
      memoize_anonymous();
      f.stage = Stage::SetItems;
      return;
    case NodeKind::Object:
      if (node.callable == kNoNode) fail(id, "the object has no class or callable");
      if (node.args != kNoNode && g_.at(node.args).kind != NodeKind::Tuple) {
        fail(id, "its constructor arguments are a " + g_.type_name(node.args) + ", not a tuple");
      }
      if (node.construct == Construct::NewObjEx) {
        if (node.kwargs != kNoNode && g_.at(node.kwargs).kind != NodeKind::Dict) {
          fail(id, "its keyword arguments are a " + g_.type_name(node.kwargs) + ", not a dict");
        }
        write_global("copyreg", "__newobj_ex__");
      }
      building_[id] = 1;
      f.stage = Stage::ObjectParts;
      return;
    case NodeKind::PersistentId:
      if (node.pid == kNoNode) fail(id, "the persistent id has no value");
      building_[id] = 1;
      f.stage = Stage::PersistentId;
      save(node.pid);  // invalidates f
      return;
  }
  work_.pop_back();  // a leaf: done
}

void Pickler::step() {
  Frame& f = work_.back();
  const Node& node = g_.at(f.id);
  switch (f.stage) {
    case Stage::Start: start(f); return;
    case Stage::TupleItems:
      if (f.pos < node.items.size()) {
        save(node.items[f.pos++]);
        return;
      }
      finish_tuple(f);
      work_.pop_back();
      return;
    case Stage::ListItems:
      if (!batch(f, node.items.size(), 1, op::APPEND, op::APPENDS)) work_.pop_back();
      return;
    case Stage::DictEntries:
      if (!batch(f, 2 * node.entries.size(), 2, op::SETITEM, op::SETITEMS)) work_.pop_back();
      return;
    case Stage::SetItems:
      if (batch(f, node.items.size(), 1, op::APPEND, op::APPENDS)) return;
      w_.op(op::TUPLE1);
      memoize_anonymous();
      w_.op(op::REDUCE);
      building_[f.id] = 0;
      memoize(f.id);
      work_.pop_back();
      return;
    case Stage::ObjectParts: {
      // Slots: callable, args, and for NEWOBJ_EX kwargs. Absent args/kwargs are empty.
      const std::size_t parts = node.construct == Construct::NewObjEx ? 3 : 2;
      while (f.pos < parts) {
        const std::size_t part = f.pos++;
        const NodeId child = part == 0 ? node.callable : part == 1 ? node.args : node.kwargs;
        if (child != kNoNode) {
          save(child);
          return;
        }
        w_.op(static_cast<uint8_t>(part == 1 ? op::EMPTY_TUPLE : op::EMPTY_DICT));
      }
      finish_object_parts(f);
      next_object_stage(f);
      return;
    }
    case Stage::ObjectItems:
      if (!batch(f, node.items.size(), 1, op::APPEND, op::APPENDS)) next_object_stage(f);
      return;
    case Stage::ObjectEntries:
      if (!batch(f, 2 * node.entries.size(), 2, op::SETITEM, op::SETITEMS)) next_object_stage(f);
      return;
    case Stage::ObjectState:
      if (f.pos++ == 0) {
        save(node.state);
        return;
      }
      w_.op(op::BUILD);
      work_.pop_back();
      return;
    case Stage::PersistentId:
      // The pid was written (the frame resumes only after it); identity needs a memo slot.
      w_.op(op::BINPERSID);
      building_[f.id] = 0;
      memoize(f.id);
      work_.pop_back();
      return;
  }
}

}  // namespace

std::string pickle(const Graph& graph, NodeId root) { return Pickler(graph).run(root); }

}  // namespace fsdpshard
