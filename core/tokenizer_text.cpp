// tokenizer_text.cpp: text handling for the tokenizer (tokenizer_internal.h):
// UTF-8, GPT-2's byte alphabet, PCRE2 regexes, and the normalizers,
// pre-tokenizers, decoders and added-token split of Hugging Face tokenizers
// (tokenizers/src/{normalizers,pre_tokenizers,decoders}, added_vocabulary.rs),
// each written to give the same pieces and text as its Rust original.
#include <pcre2.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/quote.h"
#include "core/tokenizer_internal.h"
#include "core/unicode_supplement.h"

namespace gp {
namespace tok {

// ---------------------------------------------------------------------------
// UTF-8

namespace {

// length of the valid UTF-8 sequence at s[i], or 0 with *bad = bytes that form
// the maximal invalid prefix (Rust's Utf8Chunks rules)
size_t utf8_step(const unsigned char* s, size_t n, size_t i, size_t* bad) {
  const unsigned char c = s[i];
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  size_t width = 0;
  if (c >= 0xC2 && c <= 0xDF) width = 2;
  else if (c >= 0xE0 && c <= 0xEF) width = 3;
  else if (c >= 0xF0 && c <= 0xF4) width = 4;
  if (width == 0) {
    *bad = 1;
    return 0;
  }
  if (width == 2) {
    if (cont(1)) return 2;
    *bad = 1;
    return 0;
  }
  // the second byte's range depends on the lead (no overlongs, surrogates or > U+10FFFF)
  if (i + 1 >= n) {
    *bad = 1;
    return 0;
  }
  const unsigned char d = s[i + 1];
  bool ok2;
  if (width == 3) {
    ok2 = (c == 0xE0 && d >= 0xA0 && d <= 0xBF) || (c >= 0xE1 && c <= 0xEC && d >= 0x80 && d <= 0xBF) ||
          (c == 0xED && d >= 0x80 && d <= 0x9F) || (c >= 0xEE && d >= 0x80 && d <= 0xBF);
  } else {
    ok2 = (c == 0xF0 && d >= 0x90 && d <= 0xBF) || (c >= 0xF1 && c <= 0xF3 && d >= 0x80 && d <= 0xBF) ||
          (c == 0xF4 && d >= 0x80 && d <= 0x8F);
  }
  if (!ok2) {
    *bad = 1;
    return 0;
  }
  for (size_t k = 2; k < width; ++k) {
    if (!cont(k)) {
      *bad = k;
      return 0;
    }
  }
  return width;
}

}  // namespace

size_t utf8_invalid_at(const std::string& str) {
  const auto* s = reinterpret_cast<const unsigned char*>(str.data());
  const size_t n = str.size();
  for (size_t i = 0; i < n;) {
    size_t bad = 0, w = utf8_step(s, n, i, &bad);
    if (w == 0) return i;
    i += w;
  }
  return kValidUtf8;
}

std::string utf8_lossy(const std::string& str) {
  const auto* s = reinterpret_cast<const unsigned char*>(str.data());
  const size_t n = str.size();
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n;) {
    size_t bad = 0, w = utf8_step(s, n, i, &bad);
    if (w) {
      out.append(str, i, w);
      i += w;
    } else {
      out += "\xEF\xBF\xBD";
      i += bad;
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += (char)cp;
  } else if (cp < 0x800) {
    out += (char)(0xC0 | (cp >> 6));
    out += (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += (char)(0xE0 | (cp >> 12));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  } else {
    out += (char)(0xF0 | (cp >> 18));
    out += (char)(0x80 | ((cp >> 12) & 0x3F));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  }
}

uint32_t utf8_at(const std::string& s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  switch (utf8_len(p[0])) {
    case 1: return p[0];
    case 2: return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    case 3: return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    default:
      return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 | (uint32_t)(p[2] & 0x3F) << 6 |
             (p[3] & 0x3F);
  }
}

size_t utf8_count(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// ---------------------------------------------------------------------------
// GPT-2 byte alphabet: printable bytes stand for themselves, the other 68 are
// mapped in order to U+0100.. (openai/gpt-2 encoder.py bytes_to_unicode)

namespace {

struct ByteTable {
  std::string chr[256];
  int byte_of[512];
  ByteTable() {
    std::fill(byte_of, byte_of + 512, -1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      const uint32_t cp = printable ? (uint32_t)b : 256u + (uint32_t)extra++;
      append_utf8(chr[b], cp);
      byte_of[cp] = b;
    }
  }
};
const ByteTable& byte_table() {
  static const ByteTable t;
  return t;
}

}  // namespace

const std::string& byte_char(uint8_t b) { return byte_table().chr[b]; }
int char_byte(uint32_t cp) { return cp < 512 ? byte_table().byte_of[cp] : -1; }

bool byte_level_bytes(const std::string& token, std::string& out) {
  out.clear();
  for (size_t i = 0; i < token.size(); i += utf8_len((unsigned char)token[i])) {
    const int b = char_byte(utf8_at(token, i));
    if (b < 0) return false;
    out += (char)b;
  }
  return true;
}

// ---------------------------------------------------------------------------
// regex

namespace {

// Oniguruma's \s is the White_Space property; PCRE2's (with UCP) also matches U+180E.
// \p{X} of a general category also takes the characters Unicode assigned to X
// after PCRE2's tables were made, as tokenizers' Oniguruma has them
// (core/unicode_supplement.h): new emoji are \p{S} there, not unassigned.
// (\P{X} inside a character class keeps PCRE2's tables alone.)
std::string to_pcre2(const std::string& p) {
  auto supplement = [](char cat) -> const char* {
    for (const auto& u : kUnicodeSupplement)
      if (u.category == cat && *u.ranges) return u.ranges;
    return nullptr;
  };
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[i + 1];
      if ((n == 'p' || n == 'P') && i + 4 < p.size() && p[i + 2] == '{' && p[i + 4] == '}') {
        const char* extra = supplement(p[i + 3]);
        const std::string prop = std::string("\\p{") + p[i + 3] + "}";
        if (extra && n == 'p') {
          out += in_class ? prop + extra : "[" + prop + extra + "]";
          i += 4;
          continue;
        }
        if (extra && n == 'P' && !in_class) {
          out += "[^" + prop + extra + "]";
          i += 4;
          continue;
        }
      }
      if (n == 's') out += "\\p{White_Space}";
      else if (n == 'S') out += "\\P{White_Space}";
      else out.append(p, i, 2);
      ++i;
    } else if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ] is a literal
    } else if (c == '[' && in_class && i + 1 < p.size() && p[i + 1] == ':') {  // [:alpha:] inside a class
      const size_t e = p.find(":]", i + 2);
      const size_t stop = e == std::string::npos ? p.size() : e + 2;
      out.append(p, i, stop - i);
      i = stop - 1;
    } else {
      if (c == ']' && in_class) in_class = false;
      out += c;
    }
  }
  return out;
}

// per thread: a match data for group 0 and a JIT stack big enough for long runs
struct MatchState {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mctx = nullptr;
  pcre2_jit_stack* jit = nullptr;
  MatchState() {
    md = pcre2_match_data_create(1, nullptr);
    mctx = pcre2_match_context_create(nullptr);
    jit = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    if (mctx && jit) pcre2_jit_stack_assign(mctx, nullptr, jit);
  }
  ~MatchState() {
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    pcre2_jit_stack_free(jit);
  }
};
MatchState& match_state() {
  thread_local MatchState st;
  return st;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

// one match of re in s at or after pos; false when none
bool match_once(pcre2_code* re, const std::string& s, size_t pos, uint32_t opts, size_t* b, size_t* e,
                const std::string& pattern) {
  MatchState& st = match_state();
  GP_CHECK(st.md && st.mctx, "tokenizer: cannot allocate PCRE2 match data");
  const int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos,
                             opts | PCRE2_NO_UTF_CHECK, st.md, st.mctx);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  GP_CHECK(rc >= 0, "tokenizer: regex ", quote(pattern), " failed on a text of ", s.size(), " bytes (",
           pcre2_message(rc), ")");
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
  *b = ov[0];
  *e = ov[1];
  return true;
}

}  // namespace

Regex::Regex(const std::string& pattern, const std::string& where) : pattern_(pattern) {
  const std::string p = to_pcre2(pattern);
  int err = 0;
  PCRE2_SIZE off = 0;
  // \C (one byte, even inside a character) is refused: pieces must stay UTF-8 for PCRE2_NO_UTF_CHECK
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C, &err, &off, nullptr);
  GP_CHECK(re, where, ": cannot compile regex ", quote(pattern), " (", pcre2_message(err), " at offset ", off,
           ")");
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
  code_ = std::shared_ptr<void>(re, [](void* c) { pcre2_code_free(static_cast<pcre2_code*>(c)); });
}

std::shared_ptr<Regex> Regex::literal(const std::string& text, const std::string& where) {
  std::string p;
  for (char c : text) {
    if (std::strchr("\\^$.|?*+()[]{}-/#&~ ", c) && c != 0) p += '\\';
    p += c;
  }
  return std::make_shared<Regex>(p, where);
}

std::vector<std::pair<size_t, size_t>> Regex::find_all(const std::string& s) const {
  auto* re = static_cast<pcre2_code*>(code_.get());
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = 0, b = 0, e = 0;
  bool have_last = false;
  size_t last_end = 0;
  while (pos <= s.size() && match_once(re, s, pos, 0, &b, &e, pattern_)) {
    if (b == e && have_last && last_end == e) {  // no empty match right after a match
      if (e >= s.size()) break;
      pos = e + utf8_len((unsigned char)s[e]);
      continue;
    }
    out.emplace_back(b, e);
    have_last = true;
    last_end = e;
    pos = e;
  }
  return out;
}

std::vector<Span> Regex::spans(const std::string& s) const {
  if (s.empty()) return {{0, 0, false}};
  std::vector<Span> out;
  size_t prev = 0;
  for (const auto& [b, e] : find_all(s)) {
    if (prev != b) out.push_back({prev, b, false});
    out.push_back({b, e, true});
    prev = e;
  }
  if (prev != s.size()) out.push_back({prev, s.size(), false});
  return out;
}

bool Regex::matches_char(uint32_t cp) const {
  std::string c;
  append_utf8(c, cp);
  size_t b = 0, e = 0;
  return match_once(static_cast<pcre2_code*>(code_.get()), c, 0, PCRE2_ANCHORED, &b, &e, pattern_) &&
         e == c.size();
}

bool is_white_space(uint32_t cp) {
  static const Regex re("\\p{White_Space}", "tokenizer");
  return re.matches_char(cp);
}

bool is_alphanumeric(uint32_t cp) {
  static const Regex re("[\\p{Alphabetic}\\p{N}]", "tokenizer");
  return re.matches_char(cp);
}

// ---------------------------------------------------------------------------
// splitting (tokenizers normalizer.rs NormalizedString::split)

SplitBehavior split_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  fail(where, ": unknown split behavior ", quote(name));
}

void split_piece(const Piece& p, const std::vector<Span>& spans_in, SplitBehavior b, bool invert,
                 std::vector<Piece>& out) {
  std::vector<Span> m = spans_in;
  if (invert)
    for (auto& s : m) s.match = !s.match;
  // (begin, end, removed)
  std::vector<Span> parts;
  switch (b) {
    case SplitBehavior::Isolated:
      for (const auto& s : m) parts.push_back({s.begin, s.end, false});
      break;
    case SplitBehavior::Removed:
      parts = m;
      break;
    case SplitBehavior::Contiguous: {
      bool prev = false;
      for (const auto& s : m) {
        if (s.match == prev && !parts.empty()) parts.back().end = s.end;
        else parts.push_back({s.begin, s.end, false});
        prev = s.match;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool prev = false;
      for (const auto& s : m) {
        if (s.match && !prev && !parts.empty()) parts.back().end = s.end;
        else parts.push_back({s.begin, s.end, false});
        prev = s.match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev = false;
      for (auto it = m.rbegin(); it != m.rend(); ++it) {
        if (it->match && !prev && !parts.empty()) parts.back().begin = it->begin;
        else parts.push_back({it->begin, it->end, false});
        prev = it->match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    }
  }
  for (const auto& s : parts) {
    if (s.match || s.end <= s.begin) continue;  // removed, or empty
    Piece q;
    q.text = p.text.substr(s.begin, s.end - s.begin);
    q.at_origin = p.at_origin && s.begin == 0;
    out.push_back(std::move(q));
  }
}

// ---------------------------------------------------------------------------
// normalizers

namespace {

std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  size_t pos = 0;
  for (size_t at; (at = s.find(from, pos)) != std::string::npos; pos = at + from.size()) {
    out.append(s, pos, at - pos);
    out += to;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::string replace_regex(const std::string& s, const Regex& re, const std::string& to) {
  std::string out;
  size_t pos = 0;
  for (const auto& [b, e] : re.find_all(s)) {
    out.append(s, pos, b - pos);
    out += to;
    pos = e;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

}  // namespace

std::string normalize(const std::vector<Normalizer>& ns, std::string s) {
  for (const auto& n : ns) {
    if (n.kind == Normalizer::Prepend) {
      if (!s.empty()) s = n.text + s;
    } else {
      s = n.regex ? replace_regex(s, *n.regex, n.text) : replace_all(s, n.literal, n.text);
    }
  }
  return s;
}

// ---------------------------------------------------------------------------
// pre-tokenizers

std::shared_ptr<Regex> gpt2_regex() {
  static const auto re = std::make_shared<Regex>(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", "ByteLevel");
  return re;
}

void pre_tokenize(const std::vector<PreTokenizer>& pts, std::vector<Piece>& pieces) {
  for (const auto& pt : pts) {
    std::vector<Piece> next;
    next.reserve(pieces.size() * 2);
    for (auto& p : pieces) {
      if (p.id >= 0) {
        next.push_back(std::move(p));
        continue;
      }
      switch (pt.kind) {
        case PreTokenizer::Split:
          split_piece(p, pt.regex->spans(p.text), pt.behavior, pt.invert, next);
          break;
        case PreTokenizer::Digits:
          split_piece(p, pt.regex->spans(p.text),
                      pt.individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false, next);
          break;
        case PreTokenizer::Metaspace: {
          Piece q = p;
          q.text = replace_all(q.text, " ", pt.replacement);
          const bool starts = q.text.compare(0, pt.replacement.size(), pt.replacement) == 0;
          if (!starts && (pt.prepend == PreTokenizer::Always || (pt.prepend == PreTokenizer::First && q.at_origin)))
            q.text = pt.replacement + q.text;
          if (pt.split) split_piece(q, pt.regex->spans(q.text), SplitBehavior::MergedWithNext, false, next);
          else if (!q.text.empty()) next.push_back(std::move(q));
          break;
        }
        case PreTokenizer::ByteLevel: {
          Piece q = p;
          if (pt.add_prefix_space && (q.text.empty() || q.text[0] != ' ')) q.text = " " + q.text;
          const size_t first = next.size();
          if (pt.use_regex) split_piece(q, gpt2_regex()->spans(q.text), SplitBehavior::Isolated, false, next);
          else if (!q.text.empty()) next.push_back(std::move(q));
          for (size_t k = first; k < next.size(); ++k) {
            std::string mapped;
            mapped.reserve(next[k].text.size() * 2);
            for (unsigned char c : next[k].text) mapped += byte_char(c);
            next[k].text = std::move(mapped);
          }
          break;
        }
      }
    }
    pieces = std::move(next);
  }
}

// ---------------------------------------------------------------------------
// decoders

std::string decode_tokens(const std::vector<Decoder>& ds, std::vector<std::string> toks) {
  if (ds.empty()) {
    std::string out;
    for (size_t k = 0; k < toks.size(); ++k) out += (k ? " " : "") + toks[k];
    return out;
  }
  for (const auto& d : ds) {
    switch (d.kind) {
      case Decoder::ByteLevel: {
        std::string bytes, b;
        for (const auto& t : toks) bytes += byte_level_bytes(t, b) ? b : t;
        toks.assign(1, utf8_lossy(bytes));
        break;
      }
      case Decoder::Replace:
        for (auto& t : toks) t = d.regex ? replace_regex(t, *d.regex, d.content) : replace_all(t, d.literal, d.content);
        break;
      case Decoder::ByteFallback: {
        std::vector<std::string> out;
        std::string pending;
        auto flush = [&] {
          if (pending.empty()) return;
          if (utf8_invalid_at(pending) == kValidUtf8) out.push_back(pending);
          else
            for (size_t k = 0; k < pending.size(); ++k) out.push_back("\xEF\xBF\xBD");
          pending.clear();
        };
        for (auto& t : toks) {
          int v = -1;
          if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && isxdigit((unsigned char)t[3]) &&
              isxdigit((unsigned char)t[4]))
            v = std::stoi(t.substr(3, 2), nullptr, 16);
          if (v >= 0) {
            pending += (char)v;
          } else {
            flush();
            out.push_back(std::move(t));
          }
        }
        flush();
        toks = std::move(out);
        break;
      }
      case Decoder::Fuse: {
        std::string all;
        for (const auto& t : toks) all += t;
        toks.assign(1, all);
        break;
      }
      case Decoder::Strip: {
        const uint32_t c = utf8_at(d.content, 0);
        for (auto& t : toks) {
          std::vector<size_t> at;  // byte offset of each character
          for (size_t i = 0; i < t.size(); i += utf8_len((unsigned char)t[i])) at.push_back(i);
          const size_t n = at.size();
          size_t cut_start = 0, cut_stop = n;
          for (size_t i = 0; i < std::min(d.start, n) && utf8_at(t, at[i]) == c; ++i) cut_start = i + 1;
          for (size_t i = 0; i < std::min(d.stop, n) && utf8_at(t, at[n - i - 1]) == c; ++i) cut_stop = n - i - 1;
          // tokenizers panics when the cuts cross; nothing is left either way
          if (cut_stop <= cut_start) t.clear();
          else t = t.substr(at[cut_start], (cut_stop == n ? t.size() : at[cut_stop]) - at[cut_start]);
        }
        break;
      }
      case Decoder::Metaspace: {
        for (size_t k = 0; k < toks.size(); ++k) {
          const std::string& rep = d.replacement;
          const std::string with = (k == 0 && !d.prepend_never) ? "" : " ";
          toks[k] = replace_all(toks[k], rep, with);
        }
        break;
      }
    }
  }
  std::string out;
  for (const auto& t : toks) out += t;
  return out;
}

// ---------------------------------------------------------------------------
// added tokens (tokenizers added_vocabulary.rs)

void AddedVocab::add(const AddedToken& t) {
  auto it = content_.find(t.content);
  if (it != content_.end()) {
    id_.erase(tokens_[it->second].id);
    tokens_[it->second] = t;
    id_[t.id] = it->second;
  } else {
    content_[t.content] = tokens_.size();
    id_[t.id] = tokens_.size();
    tokens_.push_back(t);
  }
  special_.clear();
  for (const auto& x : tokens_)
    if (x.special) special_.insert(x.content);
}

const AddedToken* AddedVocab::by_content(const std::string& s) const {
  auto it = content_.find(s);
  return it == content_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocab::by_id(int32_t id) const {
  auto it = id_.find(id);
  return it == id_.end() ? nullptr : &tokens_[it->second];
}

AddedVocab::Matcher AddedVocab::make_matcher(const std::vector<std::pair<std::string, size_t>>& pats) {
  Matcher m;
  m.pats = pats;
  // among patterns with the same first byte, the longest is tried first
  std::stable_sort(m.pats.begin(), m.pats.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  m.by_byte.resize(256);
  for (size_t k = 0; k < m.pats.size(); ++k)
    if (!m.pats[k].first.empty()) m.by_byte[(unsigned char)m.pats[k].first[0]].push_back(k);
  return m;
}

void AddedVocab::build(const std::vector<Normalizer>& norm) {
  std::vector<std::pair<std::string, size_t>> raw, normed;
  for (size_t k = 0; k < tokens_.size(); ++k) {
    AddedToken& t = tokens_[k];
    t.text = t.normalized ? normalize(norm, t.content) : t.content;
    if (t.normalized) normed.emplace_back(t.text, k);
    else raw.emplace_back(t.content, k);
  }
  raw_ = make_matcher(raw);
  normalized_ = make_matcher(normed);
}

namespace {

bool is_word_char(uint32_t c) { return c == '_' || is_alphanumeric(c); }

// the character before byte offset i
uint32_t char_before(const std::string& s, size_t i) {
  size_t j = i - 1;
  while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80) --j;
  return utf8_at(s, j);
}

}  // namespace

// tokenizers' find_matches: leftmost-longest matches; single_word, lstrip and
// rstrip adjust them; the text between matches becomes plain pieces
void AddedVocab::find(const std::string& s, const Matcher& m, bool at_origin, std::vector<Piece>& out) const {
  size_t start_offset = 0;
  auto plain = [&](size_t b, size_t e) {
    Piece p;
    p.text = s.substr(b, e - b);
    p.at_origin = at_origin && b == 0;
    out.push_back(std::move(p));
  };
  if (!m.pats.empty()) {
    size_t pos = 0;
    while (pos < s.size()) {
      // the leftmost position where a pattern matches, and the longest pattern there
      size_t mb = std::string::npos, tok = 0, mlen = 0;
      for (size_t i = pos; i < s.size() && mb == std::string::npos; ++i) {
        for (size_t k : m.by_byte[(unsigned char)s[i]]) {
          const std::string& pat = m.pats[k].first;
          if (s.compare(i, pat.size(), pat) == 0) {
            mb = i;
            tok = m.pats[k].second;
            mlen = pat.size();
            break;
          }
        }
      }
      if (mb == std::string::npos) break;
      size_t start = mb, stop = mb + mlen;
      pos = stop;
      const AddedToken& t = tokens_[tok];
      if (t.single_word) {
        const bool start_space = start == 0 || !is_word_char(char_before(s, start));
        const bool stop_space = stop == s.size() || !is_word_char(utf8_at(s, stop));
        if (!start_space || !stop_space) continue;
      }
      if (t.lstrip) {
        size_t ns = start;
        while (ns > 0) {
          size_t j = ns - 1;
          while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80) --j;
          if (!is_white_space(utf8_at(s, j))) break;
          ns = j;
        }
        start = std::max(ns, start_offset);
      }
      if (t.rstrip) {
        while (stop < s.size() && is_white_space(utf8_at(s, stop))) stop += utf8_len((unsigned char)s[stop]);
      }
      if (start_offset < start) plain(start_offset, start);
      Piece p;
      p.text = s.substr(start, stop - start);
      p.id = t.id;
      out.push_back(std::move(p));
      start_offset = stop;
    }
  }
  if (start_offset < s.size()) plain(start_offset, s.size());
}

std::vector<Piece> AddedVocab::split(const std::string& text, const std::vector<Normalizer>& norm) const {
  std::vector<Piece> raw_pieces, out;
  find(text, raw_, true, raw_pieces);
  for (auto& p : raw_pieces) {
    if (p.id >= 0) {
      out.push_back(std::move(p));
      continue;
    }
    const std::string n = normalize(norm, p.text);
    if (!n.empty()) find(n, normalized_, p.at_origin, out);
  }
  return out;
}

}  // namespace tok
}  // namespace gp
