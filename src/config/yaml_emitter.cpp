#include "config/yaml_emitter.h"

#include <optional>
#include <vector>

#include "config/python_numbers.h"
#include "config/utf8.h"
#include "config/yaml_scalar_types.h"
#include "fsdpshard/util/error.h"

namespace fsdpshard::config {

namespace {

constexpr int kBestIndent = 2;
constexpr int kBestWidth = 80;
// Past the end of a scalar (PyYAML's `ch = None`).
constexpr char32_t kEnd = 0xFFFFFFFF;

bool is_break(char32_t c) { return c == U'\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
bool is_blank_or_end(char32_t c) {
  return c == 0 || c == U' ' || c == U'\t' || c == U'\r' || is_break(c);
}

// What PyYAML's analyze_scalar learns about a scalar before choosing its style.
struct Analysis {
  bool empty = false;
  bool multiline = false;
  bool allow_flow_plain = true;
  bool allow_block_plain = true;
  bool allow_single_quoted = true;
  bool allow_block = true;
};

Analysis analyze(const std::u32string& s) {
  Analysis a;
  if (s.empty()) {
    a.empty = true;
    a.allow_flow_plain = false;
    a.allow_block = false;
    return a;
  }
  bool block_ind = false, flow_ind = false, line_breaks = false, special = false;
  bool leading_space = false, leading_break = false, trailing_space = false,
       trailing_break = false, break_space = false, space_break = false;
  auto starts = [&](const char32_t* p) { return s.compare(0, 3, p) == 0; };
  if (s.size() >= 3 && (starts(U"---") || starts(U"..."))) block_ind = flow_ind = true;
  bool preceded_by_ws = true;
  bool followed_by_ws = s.size() == 1 || is_blank_or_end(s[1]);
  bool prev_space = false, prev_break = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char32_t ch = s[i];
    if (i == 0) {
      if (std::u32string_view(U"#,[]{}&*!|>'\"%@`").find(ch) != std::u32string_view::npos) {
        flow_ind = block_ind = true;
      }
      if (ch == U'?' || ch == U':') {
        flow_ind = true;
        if (followed_by_ws) block_ind = true;
      }
      if (ch == U'-' && followed_by_ws) flow_ind = block_ind = true;
    } else {
      if (std::u32string_view(U",?[]{}").find(ch) != std::u32string_view::npos) flow_ind = true;
      if (ch == U':') {
        flow_ind = true;
        if (followed_by_ws) block_ind = true;
      }
      if (ch == U'#' && preceded_by_ws) flow_ind = block_ind = true;
    }
    if (is_break(ch)) line_breaks = true;
    if (!(ch == U'\n' || (ch >= 0x20 && ch <= 0x7E))) {
      const bool printable_unicode = (ch == 0x85 || (ch >= 0xA0 && ch <= 0xD7FF) ||
                                      (ch >= 0xE000 && ch <= 0xFFFD) ||
                                      (ch >= 0x10000 && ch < 0x10FFFF)) &&
                                     ch != 0xFEFF;
      // allow_unicode=True: printable non-ASCII stays as it is.
      if (!printable_unicode) special = true;
    }
    if (ch == U' ') {
      if (i == 0) leading_space = true;
      if (i == s.size() - 1) trailing_space = true;
      if (prev_break) break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (is_break(ch)) {
      if (i == 0) leading_break = true;
      if (i == s.size() - 1) trailing_break = true;
      if (prev_space) space_break = true;
      prev_space = false;
      prev_break = true;
    } else {
      prev_space = prev_break = false;
    }
    preceded_by_ws = is_blank_or_end(ch);
    followed_by_ws = i + 2 >= s.size() || is_blank_or_end(s[i + 2]);
  }
  if (leading_space || leading_break || trailing_space || trailing_break) {
    a.allow_flow_plain = a.allow_block_plain = false;
  }
  if (trailing_space) a.allow_block = false;
  if (break_space) a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = false;
  if (space_break || special) {
    a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = a.allow_block = false;
  }
  if (line_breaks) a.allow_flow_plain = a.allow_block_plain = false;
  if (flow_ind) a.allow_flow_plain = false;
  if (block_ind) a.allow_block_plain = false;
  a.multiline = line_breaks;
  return a;
}

// A scalar as the representer hands it to the emitter.
struct Scalar {
  std::u32string text;
  char style = 0;           // requested: 0 (any), '\'' or '|'
  bool implicit_plain = true;  // plain text resolves back to the scalar's own tag
  bool implicit_quoted = true; // quoted text resolves back to it (only for strings)
  std::string tag;          // written when neither implicit form applies
  // Length of the tag's short form ('!!str', '!!float'...): PyYAML's simple-key test
  // counts it even when the tag is not written, so keys of 123+ characters get '? '.
  std::size_t tag_length = 5;
};

// omegaconf's str representer + PyYAML's representers for the other scalar types.
Scalar represent(const CfgValue& v) {
  Scalar s;
  switch (v.kind) {
    case CfgValue::Kind::Null: s.text = U"null"; s.implicit_quoted = false; s.tag_length = 6; break;
    case CfgValue::Kind::Bool: s.text = v.boolean ? U"true" : U"false"; s.implicit_quoted = false; s.tag_length = 6; break;
    case CfgValue::Kind::Int: s.text = utf8_decode(v.text); s.implicit_quoted = false; break;
    case CfgValue::Kind::Float: s.text = utf8_decode(yaml_float_text(v.number)); s.implicit_quoted = false; s.tag_length = 7; break;
    case CfgValue::Kind::Str: {
      s.text = utf8_decode(v.text);
      // OmegaConfDumper.str_representer: text that reads as a bool, int or float is quoted.
      static const char* const kBools[] = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No",
                                           "NO", "true", "True", "TRUE", "false", "False",
                                           "FALSE", "on", "On", "ON", "off", "Off", "OFF"};
      bool quote = python_accepts_int(v.text) || python_accepts_float(v.text);
      for (const char* b : kBools) quote = quote || v.text == b;
      if (quote) s.style = '\'';
      s.implicit_plain = dumper_reads_plain_as_str(v.text);
      break;
    }
    case CfgValue::Kind::Bytes: {
      // represent_binary: base64.encodebytes (76-char lines, each ending in '\n'), literal.
      static const char* const kAlphabet =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      std::string b64, line;
      const std::string& d = v.text;
      for (std::size_t i = 0; i < d.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(d[i]) << 16) |
                           (i + 1 < d.size() ? static_cast<unsigned char>(d[i + 1]) << 8 : 0) |
                           (i + 2 < d.size() ? static_cast<unsigned char>(d[i + 2]) : 0);
        line += kAlphabet[(n >> 18) & 63];
        line += kAlphabet[(n >> 12) & 63];
        line += i + 1 < d.size() ? kAlphabet[(n >> 6) & 63] : '=';
        line += i + 2 < d.size() ? kAlphabet[n & 63] : '=';
        if (line.size() == 76) {
          b64 += line + "\n";
          line.clear();
        }
      }
      if (!line.empty()) b64 += line + "\n";
      s.text = utf8_decode(b64);
      s.style = '|';
      s.implicit_plain = s.implicit_quoted = false;
      s.tag = "!!binary";
      s.tag_length = 8;
      break;
    }
    default: break;
  }
  return s;
}

class Emitter {
 public:
  std::string finish() { return std::move(out_); }

  void document(const CfgValue& root) {
    node(root, /*root=*/true, false, false, false);
    // Document end: implicit, so only the final line break.
    write_indent();
  }

 private:
  // ---- output primitives (PyYAML's write_indicator / write_indent / write_line_break) ----
  void write(const std::u32string& data) {
    column_ += static_cast<int>(data.size());
    out_ += utf8_encode(data);
  }
  void write_indicator(const std::u32string& indicator, bool need_whitespace,
                       bool whitespace = false, bool indention = false) {
    std::u32string data = (whitespace_ || !need_whitespace) ? indicator : U" " + indicator;
    whitespace_ = whitespace;
    indention_ = indention_ && indention;
    write(data);
  }
  void write_indent() {
    const int indent = indent_.value_or(0);
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_)) {
      write_line_break();
    }
    if (column_ < indent) {
      whitespace_ = true;
      write(std::u32string(indent - column_, U' '));
    }
  }
  void write_line_break(std::u32string data = U"\n") {
    whitespace_ = true;
    indention_ = true;
    column_ = 0;
    out_ += utf8_encode(data);
  }
  void increase_indent(bool flow, bool indentless = false) {
    indents_.push_back(indent_);
    if (!indent_) {
      indent_ = flow ? kBestIndent : 0;
    } else if (!indentless) {
      *indent_ += kBestIndent;
    }
  }
  void pop_indent() {
    indent_ = indents_.back();
    indents_.pop_back();
  }

  // ---- nodes ----
  void node(const CfgValue& v, bool root, bool sequence, bool mapping, bool simple_key) {
    // Only these two contexts change the output here: the root and sequence contexts
    // matter to PyYAML for open-ended root scalars and anchors, which never occur.
    (void)root;
    (void)sequence;
    mapping_context_ = mapping;
    simple_key_context_ = simple_key;
    if (v.is_list()) {
      if (flow_level_ > 0 || v.values.empty()) flow_collection(U"[", U"]");
      else block_sequence(v);
    } else if (v.is_map()) {
      if (flow_level_ > 0 || v.keys.empty()) flow_collection(U"{", U"}");
      else block_mapping(v);
    } else {
      scalar(represent(v));
    }
  }

  // Only empty collections are written in flow style (default_flow_style=False).
  void flow_collection(const std::u32string& open, const std::u32string& close) {
    write_indicator(open, true, /*whitespace=*/true);
    ++flow_level_;
    increase_indent(true);
    pop_indent();
    --flow_level_;
    write_indicator(close, false);
  }

  void block_sequence(const CfgValue& v) {
    // A list under a mapping key is indentless: '- item' at the key's column.
    const bool indentless = mapping_context_ && !indention_;
    increase_indent(false, indentless);
    for (const CfgValue& item : v.values) {
      write_indent();
      write_indicator(U"-", true, false, /*indention=*/true);
      node(item, false, true, false, false);
    }
    pop_indent();
  }

  void block_mapping(const CfgValue& v) {
    increase_indent(false);
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      write_indent();
      const Scalar key = represent(v.keys[i]);
      const Analysis ka = analyze(key.text);
      const std::size_t length = key.text.size() + key.tag_length;
      if (length < 128 && !ka.empty && !ka.multiline) {
        node(v.keys[i], false, false, true, /*simple_key=*/true);
        write_indicator(U":", false);
        node(v.values[i], false, false, true, false);
      } else {
        // Complex key: '? key' then ': value' on its own line.
        write_indicator(U"?", true, false, /*indention=*/true);
        node(v.keys[i], false, false, true, false);
        write_indent();
        write_indicator(U":", true, false, /*indention=*/true);
        node(v.values[i], false, false, true, false);
      }
    }
    pop_indent();
  }

  char choose_style(const Scalar& s, const Analysis& a) const {
    if (!s.style && s.implicit_plain) {
      if (!(simple_key_context_ && (a.empty || a.multiline)) &&
          ((flow_level_ > 0 && a.allow_flow_plain) || (flow_level_ == 0 && a.allow_block_plain))) {
        return 0;
      }
    }
    if (s.style == '|' || s.style == '>') {
      if (flow_level_ == 0 && !simple_key_context_ && a.allow_block) return s.style;
    }
    if (!s.style || s.style == '\'') {
      if (a.allow_single_quoted && !(simple_key_context_ && a.multiline)) return '\'';
    }
    return '"';
  }

  void scalar(const Scalar& s) {
    const Analysis a = analyze(s.text);
    const char style = choose_style(s, a);
    // process_tag: the tag is omitted when the chosen style reads back as the same type.
    const bool implicit = (style == 0 && s.implicit_plain) || (style != 0 && s.implicit_quoted);
    if (!implicit && !s.tag.empty()) write_indicator(utf8_decode(s.tag), true);
    increase_indent(true);
    const bool split = !simple_key_context_;
    switch (style) {
      case '"': write_double_quoted(s.text, split); break;
      case '\'': write_single_quoted(s.text, split); break;
      case '|': write_literal(s.text); break;
      default: write_plain(s.text, split); break;
    }
    pop_indent();
  }

  void write_plain(const std::u32string& text, bool split) {
    if (text.empty()) return;
    if (!whitespace_) write(U" ");
    whitespace_ = false;
    indention_ = false;
    bool spaces = false, breaks = false;
    std::size_t start = 0;
    for (std::size_t end = 0; end <= text.size(); ++end) {
      const char32_t ch = end < text.size() ? text[end] : kEnd;
      if (spaces) {
        if (ch != U' ') {
          if (start + 1 == end && column_ > kBestWidth && split) {
            write_indent();
            whitespace_ = false;
            indention_ = false;
          } else {
            write(text.substr(start, end - start));
          }
          start = end;
        }
      } else if (breaks) {
        if (ch == kEnd || !is_break(ch)) {
          write_breaks(text, start, end);
          whitespace_ = false;
          indention_ = false;
          start = end;
        }
      } else if (ch == kEnd || ch == U' ' || is_break(ch)) {
        write(text.substr(start, end - start));
        start = end;
      }
      if (ch != kEnd) {
        spaces = ch == U' ';
        breaks = is_break(ch);
      }
    }
  }

  // The line breaks text[start, end) of a flow scalar, as PyYAML re-emits them: a leading
  // '\n' doubled (one break folds away on reading), others kept, then the indent.
  void write_breaks(const std::u32string& text, std::size_t start, std::size_t end) {
    if (text[start] == U'\n') write_line_break();
    for (std::size_t k = start; k < end; ++k) {
      write_line_break(text[k] == U'\n' ? U"\n" : std::u32string(1, text[k]));
    }
    write_indent();
  }

  void write_single_quoted(const std::u32string& text, bool split) {
    write_indicator(U"'", true);
    bool spaces = false, breaks = false;
    std::size_t start = 0;
    for (std::size_t end = 0; end <= text.size(); ++end) {
      const char32_t ch = end < text.size() ? text[end] : kEnd;
      if (spaces) {
        if (ch == kEnd || ch != U' ') {
          if (start + 1 == end && column_ > kBestWidth && split && start != 0 &&
              end != text.size()) {
            write_indent();
          } else {
            write(text.substr(start, end - start));
          }
          start = end;
        }
      } else if (breaks) {
        if (ch == kEnd || !is_break(ch)) {
          write_breaks(text, start, end);
          start = end;
        }
      } else if (ch == kEnd || ch == U' ' || is_break(ch) || ch == U'\'') {
        if (start < end) {
          write(text.substr(start, end - start));
          start = end;
        }
      }
      if (ch == U'\'') {
        write(U"''");
        start = end + 1;
      }
      if (ch != kEnd) {
        spaces = ch == U' ';
        breaks = is_break(ch);
      }
    }
    write_indicator(U"'", false);
  }

  static std::u32string escape(char32_t ch) {
    switch (ch) {
      case 0x00: return U"\\0";
      case 0x07: return U"\\a";
      case 0x08: return U"\\b";
      case 0x09: return U"\\t";
      case 0x0A: return U"\\n";
      case 0x0B: return U"\\v";
      case 0x0C: return U"\\f";
      case 0x0D: return U"\\r";
      case 0x1B: return U"\\e";
      case U'"': return U"\\\"";
      case U'\\': return U"\\\\";
      case 0x85: return U"\\N";
      case 0xA0: return U"\\_";
      case 0x2028: return U"\\L";
      case 0x2029: return U"\\P";
      default: break;
    }
    char buf[16];
    if (ch <= 0xFF) std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(ch));
    else if (ch <= 0xFFFF) std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(ch));
    else std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(ch));
    return utf8_decode(buf);
  }

  void write_double_quoted(const std::u32string& text, bool split) {
    write_indicator(U"\"", true);
    std::size_t start = 0;
    for (std::size_t end = 0; end <= text.size(); ++end) {
      const char32_t ch = end < text.size() ? text[end] : kEnd;
      if (ch == kEnd || ch == U'"' || ch == U'\\' || ch == 0x85 || ch == 0x2028 ||
          ch == 0x2029 || ch == 0xFEFF ||
          !((ch >= 0x20 && ch <= 0x7E) || (ch >= 0xA0 && ch <= 0xD7FF) ||
            (ch >= 0xE000 && ch <= 0xFFFD))) {
        if (start < end) {
          write(text.substr(start, end - start));
          start = end;
        }
        if (ch != kEnd) {
          write(escape(ch));
          start = end + 1;
        }
      }
      if (end > 0 && end + 1 < text.size() && (ch == U' ' || start >= end) &&
          column_ + static_cast<int>(end - start) > kBestWidth && split) {
        std::u32string data = (start < end ? text.substr(start, end - start) : U"") + U"\\";
        if (start < end) start = end;
        write(data);
        write_indent();
        whitespace_ = false;
        indention_ = false;
        if (text[start] == U' ') write(U"\\");
      }
    }
    write_indicator(U"\"", false);
  }

  void write_literal(const std::u32string& text) {
    // Block hints: only what base64 text needs (no leading space; ends in one '\n').
    std::u32string hints;
    if (!text.empty()) {
      if (text[0] == U' ' || is_break(text[0])) hints += U"2";
      if (!is_break(text.back())) hints += U"-";
      else if (text.size() == 1 || is_break(text[text.size() - 2])) hints += U"+";
    }
    write_indicator(U"|" + hints, true);
    write_line_break();
    bool breaks = true;
    std::size_t start = 0;
    for (std::size_t end = 0; end <= text.size(); ++end) {
      const char32_t ch = end < text.size() ? text[end] : kEnd;
      if (breaks) {
        if (ch == kEnd || !is_break(ch)) {
          for (std::size_t k = start; k < end; ++k) {
            write_line_break(text[k] == U'\n' ? U"\n" : std::u32string(1, text[k]));
          }
          if (ch != kEnd) write_indent();
          start = end;
        }
      } else if (ch == kEnd || is_break(ch)) {
        out_ += utf8_encode(text.substr(start, end - start));
        if (!ch) write_line_break();
        start = end;
      }
      if (ch != kEnd) breaks = is_break(ch);
    }
  }

  std::string out_;
  int column_ = 0;
  bool whitespace_ = true;
  bool indention_ = true;
  int flow_level_ = 0;
  std::optional<int> indent_;
  std::vector<std::optional<int>> indents_;
  bool mapping_context_ = false;
  bool simple_key_context_ = false;
};

}  // namespace

std::string emit_yaml(const CfgValue& root) {
  Emitter e;
  e.document(root);
  return e.finish();
}

}  // namespace fsdpshard::config
