// tokenizer_internal.h: the parts core/tokenizer*.cpp assemble into a
// Tokenizer; not part of the public API (include core/tokenizer.h instead).
//
// Each part follows the Hugging Face tokenizers (Rust) component of the same
// name: normalizers, pre-tokenizers (on a list of pieces, as
// PreTokenizedString), the BPE model (models/bpe), decoders, and the added
// vocabulary (tokens split out of the raw text before anything else).
// Regexes are PCRE2 with Unicode properties; tokenizers uses Oniguruma, whose
// \s is the White_Space property, so \s and \S are rewritten to it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace gp {
namespace tok {

// ---------------------------------------------------------------------------
// UTF-8

constexpr size_t kValidUtf8 = size_t(-1);
// byte offset of the first byte that starts no valid UTF-8 sequence, or kValidUtf8
size_t utf8_invalid_at(const std::string& s);
// Rust's String::from_utf8_lossy: each maximal invalid subsequence -> U+FFFD
std::string utf8_lossy(const std::string& bytes);
// bytes of the UTF-8 sequence that starts with lead byte c (1 for invalid leads)
inline size_t utf8_len(unsigned char c) { return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }
void append_utf8(std::string& out, uint32_t cp);
// the code point at s[i] (s valid UTF-8)
uint32_t utf8_at(const std::string& s, size_t i);
size_t utf8_count(const std::string& s);  // code points

// GPT-2's byte <-> printable character table (bytes_to_unicode)
const std::string& byte_char(uint8_t b);  // UTF-8 of the character for byte b
int char_byte(uint32_t cp);               // the byte for character cp, or -1
// a token spelled in the byte alphabet -> its bytes; false when a character is outside it
bool byte_level_bytes(const std::string& token, std::string& out);

// ---------------------------------------------------------------------------
// regex (PCRE2, UTF + UCP, JIT when available)

struct Span {
  size_t begin, end;
  bool match;
};

class Regex {
 public:
  // pattern in tokenizers' (Oniguruma) syntax; where: names the source in errors
  Regex(const std::string& pattern, const std::string& where);
  static std::shared_ptr<Regex> literal(const std::string& text, const std::string& where);
  // non-overlapping matches [begin, end) in s from left to right, as
  // tokenizers' find_iter gives them (an empty match right after a match is skipped)
  std::vector<std::pair<size_t, size_t>> find_all(const std::string& s) const;
  // the whole of s cut into matches and the text between them (tokenizers' find_matches)
  std::vector<Span> spans(const std::string& s) const;
  bool matches_char(uint32_t cp) const;  // the pattern matches the character cp on its own
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::shared_ptr<void> code_;  // pcre2_code_8
};

// Unicode properties of one character, through PCRE2
bool is_white_space(uint32_t cp);    // Rust char::is_whitespace
bool is_alphanumeric(uint32_t cp);   // Rust char::is_alphanumeric

// ---------------------------------------------------------------------------
// pieces of text on their way to ids

struct Piece {
  std::string text;
  int32_t id = -1;         // >= 0: an added token, already final
  bool at_origin = false;  // starts at offset 0 of the original text (Metaspace "first")
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
SplitBehavior split_behavior(const std::string& name, const std::string& where);
// tokenizers' NormalizedString::split of one piece; empty results dropped
void split_piece(const Piece& p, const std::vector<Span>& spans, SplitBehavior b, bool invert,
                 std::vector<Piece>& out);

struct Normalizer {
  enum Kind { Prepend, Replace } kind = Prepend;
  std::string text;                // Prepend: what to prepend; Replace: the content
  std::string literal;             // Replace with a String pattern
  std::shared_ptr<Regex> regex;    // Replace with a Regex pattern
};
std::string normalize(const std::vector<Normalizer>& ns, std::string s);

struct PreTokenizer {
  enum Kind { Split, ByteLevel, Digits, Metaspace } kind = Split;
  std::shared_ptr<Regex> regex;    // Split pattern; Digits: \p{N}; Metaspace: the replacement
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  bool add_prefix_space = false;   // ByteLevel
  bool use_regex = true;           // ByteLevel
  bool individual_digits = false;  // Digits
  std::string replacement;         // Metaspace
  enum Prepend { Always, First, Never } prepend = Always;  // Metaspace
  bool split = true;               // Metaspace
};
// pieces with id >= 0 are left alone
void pre_tokenize(const std::vector<PreTokenizer>& pts, std::vector<Piece>& pieces);
std::shared_ptr<Regex> gpt2_regex();  // ByteLevel's built-in split

struct Decoder {
  enum Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace } kind = ByteLevel;
  std::string literal;             // Replace: String pattern
  std::shared_ptr<Regex> regex;    // Replace: Regex pattern
  std::string content;             // Replace: content; Strip: the character
  size_t start = 0, stop = 0;      // Strip
  std::string replacement;         // Metaspace
  bool prepend_never = false;      // Metaspace
};
// tokenizers' decode: each decoder's decode_chain in turn, then concatenation;
// without decoders the tokens joined by spaces
std::string decode_tokens(const std::vector<Decoder>& ds, std::vector<std::string> tokens);

// ---------------------------------------------------------------------------
// added tokens

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false, lstrip = false, rstrip = false, normalized = false, single_word = false;
  std::string text;  // set by build: what decode gives for it (tokenizers: normalized content if normalized)
};

// The split of tokenizers' AddedVocabulary: non-normalized tokens are matched
// on the raw text (leftmost, then longest), the pieces between them are
// normalized, then normalized tokens are matched on the normalized text.
class AddedVocab {
 public:
  void add(const AddedToken& t);  // replaces a token with the same content
  // call after the last add, with the normalizers that apply to normalized tokens
  void build(const std::vector<Normalizer>& norm);
  std::vector<Piece> split(const std::string& text, const std::vector<Normalizer>& norm) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* by_content(const std::string& s) const;
  const AddedToken* by_id(int32_t id) const;
  bool is_special_content(const std::string& s) const { return special_.count(s) != 0; }

 private:
  struct Matcher {
    std::vector<std::pair<std::string, size_t>> pats;  // pattern, token index; longest first per byte
    std::vector<std::vector<size_t>> by_byte;          // first byte -> indices into pats
  };
  static Matcher make_matcher(const std::vector<std::pair<std::string, size_t>>& pats);
  void find(const std::string& s, const Matcher& m, bool at_origin, std::vector<Piece>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, size_t> content_;
  std::unordered_map<int32_t, size_t> id_;
  std::unordered_set<std::string> special_;
  Matcher raw_, normalized_;
};

// ---------------------------------------------------------------------------
// BPE model (tokenizers models/bpe)

class Bpe {
 public:
  // merges as token pairs in rank order; where names the source in errors
  Bpe(std::unordered_map<std::string, int32_t> vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, const std::string& where);
  bool byte_fallback = false;
  bool fuse_unk = false;
  bool ignore_merges = false;
  std::string unk_token;  // "" = none
  bool has_unk = false;

  void tokenize(const std::string& word, std::vector<int32_t>& out) const;
  // SentencePiece BPE as sentencepiece's bpe_model and llama.cpp's SPM
  // tokenizer run it, for vocabularies stored with scores and no merges
  // (GGUF "llama" converted from tokenizer.model): from one symbol per
  // character, the adjacent pair whose concatenation is the token of highest
  // score merges first (leftmost on ties), until no concatenation is a
  // token; a character that is no token becomes its <0xNN> byte tokens.
  // scores: by token id; merges are then not used.
  void set_scores(std::vector<float> scores);
  bool by_score() const { return !scores_.empty(); }
  int32_t id(const std::string& token) const;     // -1 when absent
  const std::string* token(int32_t id) const;     // nullptr when absent
  int32_t max_id() const { return (int32_t)vocab_r_.size() - 1; }

 private:
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> vocab_r_;
  std::vector<bool> present_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (a,b) -> (rank, new id)
  int32_t byte_ids_[256];  // <0xNN> tokens, -1 when absent
  std::vector<float> scores_;  // by id; set_scores
  void tokenize_by_score(const std::string& word, std::vector<int32_t>& out) const;
};


}  // namespace tok
}  // namespace gp
