// tokenizer.cpp: the Tokenizer (tokenizer.h) and its two sources.
//
// One implementation, BpeTokenizer, runs the pipeline of Hugging Face
// tokenizers' encode (added tokens split out, normalizer, pre-tokenizer, BPE,
// post-processor) and decode (decoder chain). It is configured either from a
// tokenizer.json (+ tokenizer_config.json as transformers 5 reads it:
// special tokens and chat template; with a tokenizer.json it ignores
// add_bos_token/add_eos_token, the post-processor decides) or
// from GGUF metadata exactly as transformers' integrations/gguf builds it
// (gpt2: byte-level BPE; llama: SentencePiece-style BPE with byte fallback).
// StreamDecoder is tokenizers' DecodeStream (step_decode_stream), except that
// it resynchronizes where DecodeStream raises InvalidPrefix.
#include "core/tokenizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/gguf.h"
#include "core/json_depth.h"
#include "core/model.h"
#include "core/quote.h"
#include "core/tokenizer_internal.h"

namespace gp {

using nlohmann::json;
using namespace tok;

namespace {

// ---------------------------------------------------------------------------
// the tokenizer

constexpr size_t kCachedWordBytes = 64;
constexpr size_t kCacheFromPieces = 256;

class BpeTokenizer final : public Tokenizer {
 public:
  std::string src;  // the file it came from, for messages
  std::vector<Normalizer> norm;
  std::vector<PreTokenizer> pre;
  std::vector<Decoder> dec;
  std::unique_ptr<Bpe> bpe;
  AddedVocab added;
  std::vector<int32_t> prefix, suffix;  // what the post-processor adds around one sequence
  bool cleanup = false;                 // transformers' clean_up_tokenization after decode
  int32_t bos = -1;
  std::vector<int32_t> eos;
  std::string bos_text, eos_text, chat;

  std::vector<int32_t> encode(const std::string& text, bool add_special_tokens) const override {
    const size_t bad = utf8_invalid_at(text);
    GP_CHECK(bad == kValidUtf8, src, ": tokenizer encode: text is not valid UTF-8 at byte offset ", bad);
    std::vector<Piece> pieces = added.split(text, norm);
    pre_tokenize(pre, pieces);
    std::vector<int32_t> ids;
    if (add_special_tokens) ids = prefix;
    // words repeat in long texts: there each distinct short word goes through the merges once
    const bool cache = pieces.size() >= kCacheFromPieces;
    std::unordered_map<std::string, std::vector<int32_t>> seen;
    for (const auto& p : pieces) {
      if (p.id >= 0) {
        ids.push_back(p.id);
      } else if (cache && p.text.size() <= kCachedWordBytes) {
        auto it = seen.find(p.text);
        if (it == seen.end()) {
          std::vector<int32_t> w;
          bpe->tokenize(p.text, w);
          it = seen.emplace(p.text, std::move(w)).first;
        }
        ids.insert(ids.end(), it->second.begin(), it->second.end());
      } else {
        bpe->tokenize(p.text, ids);
      }
    }
    if (add_special_tokens) ids.insert(ids.end(), suffix.begin(), suffix.end());
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override {
    std::vector<std::string> toks;
    toks.reserve(ids.size());
    const int n = vocab_size();
    for (size_t k = 0; k < ids.size(); ++k) {
      const int32_t id = ids[k];
      GP_CHECK(id >= 0 && id < n, src, ": tokenizer decode: id ", id, " (position ", k,
               ") is outside the vocabulary [0, ", n, ")");
      const std::string* t = nullptr;
      if (const AddedToken* a = added.by_id(id)) t = &a->text;
      else t = bpe->token(id);
      if (!t) continue;  // a hole in the ids: tokenizers skips it too
      if (skip_special_tokens && added.is_special_content(*t)) continue;
      toks.push_back(*t);
    }
    std::string s = decode_tokens(dec, std::move(toks));
    return cleanup ? clean_up_tokenization(s) : s;
  }

  // transformers' PreTrainedTokenizerBase.clean_up_tokenization
  static std::string clean_up_tokenization(std::string s) {
    static const std::pair<const char*, const char*> rules[] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
        {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : rules) {
      std::string out;
      const std::string f = from;
      size_t pos = 0;
      for (size_t at; (at = s.find(f, pos)) != std::string::npos; pos = at + f.size()) {
        out.append(s, pos, at - pos);
        out += to;
      }
      out.append(s, pos, std::string::npos);
      s = std::move(out);
    }
    return s;
  }

  int vocab_size() const override {
    int32_t n = bpe->max_id() + 1;
    for (const auto& t : added.tokens()) n = std::max(n, t.id + 1);
    return n;
  }
  int32_t bos_id() const override { return bos; }
  std::vector<int32_t> eos_ids() const override { return eos; }
  std::string token_text(int32_t id) const override {
    if (const AddedToken* a = added.by_id(id)) return a->text;
    const std::string* t = bpe->token(id);
    GP_CHECK(t, src, ": token id ", id, " is not in the vocabulary");
    return *t;
  }
  int32_t token_id(const std::string& text) const override {
    if (const AddedToken* a = added.by_content(text)) return a->id;
    return bpe->id(text);
  }
  bool is_special(int32_t id) const override {
    const AddedToken* a = added.by_id(id);
    return a && a->special;
  }
  std::string bos_token() const override { return bos_text; }
  std::string eos_token() const override { return eos_text; }
  const std::string& chat_template() const override { return chat; }

  // tokenizers' AddedVocabulary::add_tokens: an existing content is kept as
  // it is; a new one takes its id from the model vocabulary, or the next free id
  void add_token(AddedToken t) {
    if (t.content.empty() || added.by_content(t.content)) return;
    t.id = bpe->id(t.content);
    if (t.id < 0) {
      int32_t max_added = -1;
      for (const auto& a : added.tokens()) max_added = std::max(max_added, a.id);
      const int32_t model_n = bpe->max_id() + 1;
      t.id = max_added >= model_n ? max_added + 1 : model_n;
    }
    added.add(t);
  }

  // transformers' update_post_processor: [bos] $A [eos]
  void bos_eos_template(bool add_bos, bool add_eos) {
    prefix.clear();
    suffix.clear();
    if (add_bos && bos >= 0) prefix.push_back(bos);
    if (add_eos && !eos.empty()) suffix.push_back(eos[0]);
  }
};

// ---------------------------------------------------------------------------
// files and JSON

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  GP_CHECK(f.good(), path, ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json parse_json(const std::string& path) {
  try {
    return json::parse(read_text(path), json_depth_limit(path));
  } catch (const json::exception& e) {
    fail(path, ": invalid JSON (", one_line(e.what()), ")");
  }
}

// the fields of tokenizers' objects, with the file named in every error
struct J {
  const std::string& where;
  const json& j;
  std::string what;  // e.g. "pre_tokenizer"

  bool has(const char* k) const { return j.is_object() && j.contains(k) && !j.at(k).is_null(); }
  const json& at(const char* k) const {
    GP_CHECK(j.is_object() && j.contains(k), where, ": ", what, " has no '", k, "'");
    return j.at(k);
  }
  std::string str(const char* k) const {
    const json& v = at(k);
    GP_CHECK(v.is_string(), where, ": ", what, ".", k, " is not a string");
    return v.get<std::string>();
  }
  std::string str_or(const char* k, const std::string& d) const { return has(k) ? str(k) : d; }
  bool flag(const char* k, bool d) const {
    if (!has(k)) return d;
    GP_CHECK(j.at(k).is_boolean(), where, ": ", what, ".", k, " is not a boolean");
    return j.at(k).get<bool>();
  }
  int64_t num(const char* k, int64_t d) const {
    if (!has(k)) return d;
    GP_CHECK(j.at(k).is_number_integer(), where, ": ", what, ".", k, " is not an integer");
    return j.at(k).get<int64_t>();
  }
  std::string type() const { return str("type"); }
};

// {"String": "..."} or {"Regex": "..."}: a literal (regex null) or a regex
struct Pattern {
  std::string literal;
  std::shared_ptr<Regex> regex;
};
Pattern pattern_of(const J& o) {
  const json& p = o.at("pattern");
  Pattern out;
  if (p.is_object() && p.contains("String") && p.at("String").is_string()) {
    out.literal = p.at("String").get<std::string>();
  } else if (p.is_object() && p.contains("Regex") && p.at("Regex").is_string()) {
    out.regex = std::make_shared<Regex>(p.at("Regex").get<std::string>(), o.where);
  } else {
    fail(o.where, ": ", o.what, ".pattern is neither {\"String\": ...} nor {\"Regex\": ...}");
  }
  return out;
}

// tokenizers' Punctuation pre-tokenizer: char::is_ascii_punctuation or a Unicode punctuation category
const char* const kPunctuation = "[\\p{P}$+<=>^`|~]";

void parse_normalizer(const std::string& where, const json& j, std::vector<Normalizer>& out) {
  if (j.is_null()) return;
  J o{where, j, "normalizer"};
  const std::string t = o.type();
  if (t == "Sequence") {
    GP_CHECK(o.at("normalizers").is_array(), where, ": normalizer Sequence has no list 'normalizers'");
    for (const auto& n : o.at("normalizers")) parse_normalizer(where, n, out);
  } else if (t == "Prepend") {
    Normalizer n;
    n.kind = Normalizer::Prepend;
    n.text = o.str("prepend");
    out.push_back(n);
  } else if (t == "Replace") {
    Normalizer n;
    n.kind = Normalizer::Replace;
    const Pattern p = pattern_of(o);
    n.literal = p.literal;
    n.regex = p.regex;
    n.text = o.str("content");
    out.push_back(n);
  } else {
    // NFC/NFKC/... need Unicode normalization tables, which goldpath does not carry
    fail(where, ": normalizer ", quote(t), " is not supported (supported: Sequence, Prepend, Replace)");
  }
}

PreTokenizer::Prepend prepend_scheme(const J& o) {
  if (o.has("prepend_scheme")) {
    const std::string s = o.str("prepend_scheme");
    if (s == "always") return PreTokenizer::Always;
    if (s == "first") return PreTokenizer::First;
    if (s == "never") return PreTokenizer::Never;
    fail(o.where, ": ", o.what, " Metaspace prepend_scheme ", quote(s), " is not always, first or never");
  }
  return o.flag("add_prefix_space", true) ? PreTokenizer::Always : PreTokenizer::Never;  // older files
}

std::string metaspace_replacement(const J& o) {
  const std::string r = o.str_or("replacement", "\xE2\x96\x81");
  GP_CHECK(!r.empty() && utf8_invalid_at(r) == kValidUtf8 && utf8_count(r) == 1, o.where, ": ", o.what,
           " Metaspace replacement ", quote(r), " is not one character");
  return r;
}

void parse_pre_tokenizer(const std::string& where, const json& j, std::vector<PreTokenizer>& out) {
  if (j.is_null()) return;
  J o{where, j, "pre_tokenizer"};
  const std::string t = o.type();
  PreTokenizer p;
  if (t == "Sequence") {
    GP_CHECK(o.at("pretokenizers").is_array(), where, ": pre_tokenizer Sequence has no list 'pretokenizers'");
    for (const auto& n : o.at("pretokenizers")) parse_pre_tokenizer(where, n, out);
    return;
  } else if (t == "ByteLevel") {
    p.kind = PreTokenizer::ByteLevel;
    p.add_prefix_space = o.flag("add_prefix_space", true);
    p.use_regex = o.flag("use_regex", true);
  } else if (t == "Split") {
    p.kind = PreTokenizer::Split;
    const Pattern pat = pattern_of(o);
    p.regex = pat.regex ? pat.regex : Regex::literal(pat.literal, where);
    p.behavior = split_behavior(o.str("behavior"), where);
    p.invert = o.flag("invert", false);
  } else if (t == "Digits") {
    p.kind = PreTokenizer::Digits;
    p.individual_digits = o.flag("individual_digits", false);
    p.regex = std::make_shared<Regex>("\\p{N}", where);  // Rust char::is_numeric
  } else if (t == "Metaspace") {
    p.kind = PreTokenizer::Metaspace;
    p.replacement = metaspace_replacement(o);
    p.prepend = prepend_scheme(o);
    p.split = o.flag("split", true);
    p.regex = Regex::literal(p.replacement, where);
  } else if (t == "Punctuation") {  // each punctuation character, split as the behavior says
    p.kind = PreTokenizer::Split;
    p.regex = std::make_shared<Regex>(kPunctuation, where);
    p.behavior = o.has("behavior") ? split_behavior(o.str("behavior"), where) : SplitBehavior::Isolated;
  } else {
    fail(where, ": pre_tokenizer ", quote(t),
         " is not supported (supported: Sequence, ByteLevel, Split, Digits, Metaspace, Punctuation)");
  }
  out.push_back(p);
}

void parse_decoder(const std::string& where, const json& j, std::vector<Decoder>& out) {
  if (j.is_null()) return;
  J o{where, j, "decoder"};
  const std::string t = o.type();
  Decoder d;
  if (t == "Sequence") {
    GP_CHECK(o.at("decoders").is_array(), where, ": decoder Sequence has no list 'decoders'");
    for (const auto& n : o.at("decoders")) parse_decoder(where, n, out);
    return;
  } else if (t == "ByteLevel") {
    d.kind = Decoder::ByteLevel;
  } else if (t == "Replace") {
    d.kind = Decoder::Replace;
    const Pattern p = pattern_of(o);
    d.literal = p.literal;
    d.regex = p.regex;
    d.content = o.str("content");
  } else if (t == "ByteFallback") {
    d.kind = Decoder::ByteFallback;
  } else if (t == "Fuse") {
    d.kind = Decoder::Fuse;
  } else if (t == "Strip") {
    d.kind = Decoder::Strip;
    d.content = o.str("content");
    GP_CHECK(utf8_invalid_at(d.content) == kValidUtf8 && utf8_count(d.content) == 1, where,
             ": decoder Strip content ", quote(d.content), " is not one character");
    const int64_t a = o.num("start", 0), b = o.num("stop", 0);
    GP_CHECK(a >= 0 && b >= 0, where, ": decoder Strip start/stop must not be negative");
    d.start = (size_t)a;
    d.stop = (size_t)b;
  } else if (t == "Metaspace") {
    d.kind = Decoder::Metaspace;
    d.replacement = metaspace_replacement(o);
    d.prepend_never = prepend_scheme(o) == PreTokenizer::Never;
  } else {
    fail(where, ": decoder ", quote(t),
         " is not supported (supported: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace)");
  }
  out.push_back(d);
}

// a token id the post-processor adds: an integer in [0, 2^31)
int32_t post_processor_id(const std::string& where, const json& v) {
  GP_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= INT32_MAX, where,
           ": post_processor token ids must be integers in [0, 2^31)");
  return v.get<int32_t>();
}

// what the post-processor adds around a single sequence (pairs are not used)
void parse_post_processor(const std::string& where, const json& j, std::vector<int32_t>& prefix,
                          std::vector<int32_t>& suffix) {
  if (j.is_null()) return;
  J o{where, j, "post_processor"};
  const std::string t = o.type();
  if (t == "Sequence") {
    GP_CHECK(o.at("processors").is_array(), where, ": post_processor Sequence has no list 'processors'");
    for (const auto& n : o.at("processors")) parse_post_processor(where, n, prefix, suffix);
  } else if (t == "ByteLevel") {
    // offsets only
  } else if (t == "TemplateProcessing") {
    const json& single = o.at("single");
    const json& specials = o.at("special_tokens");
    GP_CHECK(single.is_array(), where, ": post_processor TemplateProcessing.single is not a list");
    std::vector<int32_t> pre, post;
    bool seen_a = false;
    for (const auto& item : single) {
      if (item.contains("Sequence")) {
        const std::string id = item.at("Sequence").value("id", "");
        GP_CHECK(id == "A" && !seen_a, where, ": post_processor template for a single sequence uses $",
                 quote(id), "; only one $A is supported");
        seen_a = true;
      } else if (item.contains("SpecialToken")) {
        const std::string name = item.at("SpecialToken").value("id", "");
        GP_CHECK(specials.is_object() && specials.contains(name), where, ": post_processor template names ",
                 quote(name), ", which is not in its special_tokens");
        const json& ids = specials.at(name).at("ids");
        GP_CHECK(ids.is_array(), where, ": post_processor special token ", quote(name), " has no ids list");
        for (const auto& id : ids) (seen_a ? post : pre).push_back(post_processor_id(where, id));
      } else {
        fail(where, ": post_processor template item ", quote(item.dump()), " is neither Sequence nor SpecialToken");
      }
    }
    GP_CHECK(seen_a, where, ": post_processor template for a single sequence has no $A");
    prefix.insert(prefix.begin(), pre.begin(), pre.end());
    suffix.insert(suffix.end(), post.begin(), post.end());
  } else if (t == "RobertaProcessing" || t == "BertProcessing") {
    const json& cls = o.at("cls");
    const json& sep = o.at("sep");
    GP_CHECK(cls.is_array() && cls.size() == 2 && sep.is_array() && sep.size() == 2, where, ": post_processor ",
             t, " cls/sep are not [token, id]");
    prefix.insert(prefix.begin(), post_processor_id(where, cls[1]));
    suffix.push_back(post_processor_id(where, sep[1]));
  } else {
    fail(where, ": post_processor ", quote(t),
         " is not supported (supported: Sequence, ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing)");
  }
}

std::unique_ptr<Bpe> parse_model(const std::string& where, const json& m) {
  GP_CHECK(m.is_object(), where, ": 'model' is not an object");
  J o{where, m, "model"};
  std::string type = o.str_or("type", m.contains("merges") ? "BPE" : "");
  GP_CHECK(type == "BPE", where, ": model type ", quote(type.empty() ? "(none)" : type),
           " is not supported (only BPE)");
  if (o.has("dropout")) {
    GP_CHECK(o.at("dropout").is_number() && o.at("dropout").get<double>() == 0.0, where,
             ": BPE dropout is not supported (it makes encoding random)");
  }
  GP_CHECK(o.str_or("continuing_subword_prefix", "").empty(), where,
           ": BPE continuing_subword_prefix is not supported");
  GP_CHECK(o.str_or("end_of_word_suffix", "").empty(), where, ": BPE end_of_word_suffix is not supported");

  const json& v = o.at("vocab");
  GP_CHECK(v.is_object(), where, ": model.vocab is not an object");
  std::unordered_map<std::string, int32_t> vocab;
  vocab.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    GP_CHECK(it.value().is_number_integer(), where, ": model.vocab[", quote(it.key()), "] is not an integer");
    vocab[it.key()] = it.value().get<int32_t>();
  }
  std::vector<std::pair<std::string, std::string>> merges;
  if (o.has("merges")) {
    const json& ms = o.at("merges");
    GP_CHECK(ms.is_array(), where, ": model.merges is not a list");
    merges.reserve(ms.size());
    for (size_t k = 0; k < ms.size(); ++k) {
      const json& x = ms[k];
      if (x.is_string()) {
        const std::string s = x.get<std::string>();
        const size_t sp = s.find(' ');
        GP_CHECK(sp != std::string::npos, where, ": merge ", k, " ", quote(s), " is not 'a b'");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else {
        GP_CHECK(x.is_array() && x.size() == 2 && x[0].is_string() && x[1].is_string(), where, ": merge ", k,
                 " is neither 'a b' nor [a, b]");
        merges.emplace_back(x[0].get<std::string>(), x[1].get<std::string>());
      }
    }
  }
  auto bpe = std::make_unique<Bpe>(std::move(vocab), merges, where);
  bpe->byte_fallback = o.flag("byte_fallback", false);
  bpe->fuse_unk = o.flag("fuse_unk", false);
  bpe->ignore_merges = o.flag("ignore_merges", false);
  if (o.has("unk_token")) {
    bpe->has_unk = true;
    bpe->unk_token = o.str("unk_token");
  }
  return bpe;
}

// a token in tokenizer_config.json: "text" or {"content": "text", ...}
bool config_token(const json& v, AddedToken& t) {
  if (v.is_string()) {
    t = AddedToken();
    t.content = v.get<std::string>();
    t.special = true;
    return true;
  }
  if (v.is_object() && v.contains("content") && v.at("content").is_string()) {
    t = AddedToken();
    t.content = v.at("content").get<std::string>();
    t.special = v.value("special", true);
    t.lstrip = v.value("lstrip", false);
    t.rstrip = v.value("rstrip", false);
    t.normalized = v.value("normalized", false);
    t.single_word = v.value("single_word", false);
    return true;
  }
  return false;
}

std::string config_token_text(const json& cfg, const char* key) {
  AddedToken t;
  if (cfg.is_object() && cfg.contains(key) && config_token(cfg.at(key), t)) return t.content;
  return "";
}

// tokenizer_config.json (and chat_template.jinja) as transformers 5's
// TokenizersBackend reads them beside a tokenizer.json
void apply_tokenizer_config(BpeTokenizer& t, const std::string& dir) {
  const std::string cfg_path = dir + "/tokenizer_config.json";
  json cfg = json::object();
  if (is_file(cfg_path)) {
    cfg = parse_json(cfg_path);
    GP_CHECK(cfg.is_object(), cfg_path, ": not a JSON object");
  }
  const std::string map_path = dir + "/special_tokens_map.json";
  if (is_file(map_path)) {  // older files: special tokens here, tokenizer_config.json wins
    const json m = parse_json(map_path);
    if (m.is_object())
      for (auto it = m.begin(); it != m.end(); ++it)
        if (!cfg.contains(it.key())) cfg[it.key()] = it.value();
  }
  try {
    // the named special tokens and the extra ones become special added tokens
    // when the tokenizer.json does not have them yet
    std::vector<AddedToken> extra;
    AddedToken a;
    for (const char* k : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"})
      if (cfg.contains(k) && config_token(cfg.at(k), a)) extra.push_back(a);
    for (const char* k : {"additional_special_tokens", "extra_special_tokens"})
      if (cfg.contains(k) && cfg.at(k).is_array())
        for (const auto& v : cfg.at(k))
          if (config_token(v, a)) extra.push_back(a);
    if (cfg.contains("added_tokens_decoder") && cfg.at("added_tokens_decoder").is_object()) {
      // ordered by id, as transformers adds them
      std::vector<std::pair<long, AddedToken>> dec;
      for (auto it = cfg.at("added_tokens_decoder").begin(); it != cfg.at("added_tokens_decoder").end(); ++it)
        if (config_token(it.value(), a)) {
          char* end = nullptr;
          const long id = std::strtol(it.key().c_str(), &end, 10);
          GP_CHECK(end && *end == 0 && !it.key().empty(), cfg_path, ": added_tokens_decoder key ", quote(it.key()),
                   " is not an id");
          dec.emplace_back(id, a);
        }
      std::stable_sort(dec.begin(), dec.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
      std::vector<AddedToken> ordered;
      for (auto& [id, tk] : dec) ordered.push_back(tk);
      extra.insert(extra.begin(), ordered.begin(), ordered.end());
    }
    for (const auto& e : extra) t.add_token(e);
    t.added.build(t.norm);

    t.bos_text = config_token_text(cfg, "bos_token");
    t.eos_text = config_token_text(cfg, "eos_token");
    t.bos = t.bos_text.empty() ? -1 : t.token_id(t.bos_text);
    t.eos.clear();
    if (!t.eos_text.empty() && t.token_id(t.eos_text) >= 0) t.eos.push_back(t.token_id(t.eos_text));

    // add_bos_token / add_eos_token are ignored: transformers 5 drops them
    // when there is a tokenizer.json, whose post-processor decides

    // transformers 5 skips the clean-up for BPE models unless forced
    t.cleanup = cfg.value("clean_up_tokenization_spaces", false) &&
                cfg.value("clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output", false);

    const std::string jinja = dir + "/chat_template.jinja";
    if (is_file(jinja)) {
      t.chat = read_text(jinja);
    } else if (cfg.contains("chat_template")) {
      const json& c = cfg.at("chat_template");
      if (c.is_string()) {
        t.chat = c.get<std::string>();
      } else if (c.is_array()) {  // named templates: the "default" one
        for (const auto& x : c)
          if (x.is_object() && x.value("name", "") == "default" && x.contains("template") &&
              x.at("template").is_string())
            t.chat = x.at("template").get<std::string>();
      } else if (!c.is_null()) {
        fail(cfg_path, ": chat_template is neither a string nor a list of named templates");
      }
    }
  } catch (const json::exception& e) {
    fail(cfg_path, ": ", one_line(e.what()));
  }
}

// ---------------------------------------------------------------------------
// GGUF (transformers integrations/gguf/gguf_tokenizer_mapping.py)

const char* const kLlama3Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const char* const kQwen2Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// deepseek-llm's letters, as its tokenizer.json (and llama.cpp's llama-vocab.cpp) list them
const char* const kDeepseekLlmLetters =
    "A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373"
    "\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481"
    "\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b"
    "\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b"
    "\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb"
    "\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128"
    "\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4"
    "\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf"
    "\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3"
    "\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943";
const char* const kDeepseekCjk = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";  // deepseek-llm, deepseek-coder
const char* const kDeepseekV3Split =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// tokenizer.ggml.pre -> the pre-tokenizers of that family's tokenizer.json (the
// splits llama.cpp's llama-vocab.cpp lists for the name, as transformers runs them)
std::vector<PreTokenizer> gguf_byte_level_pre(const std::string& pre, const std::string& where) {
  auto byte_level = [](bool use_regex) {
    PreTokenizer b;
    b.kind = PreTokenizer::ByteLevel;
    b.add_prefix_space = false;
    b.use_regex = use_regex;
    return b;
  };
  auto split = [&](const std::string& rx, SplitBehavior how = SplitBehavior::Isolated) {
    PreTokenizer s;
    s.kind = PreTokenizer::Split;
    s.regex = std::make_shared<Regex>(rx, where);
    s.behavior = how;
    return s;
  };
  auto digits = [&](bool individual) {
    PreTokenizer d;
    d.kind = PreTokenizer::Digits;
    d.individual_digits = individual;
    d.regex = std::make_shared<Regex>("\\p{N}", where);
    return d;
  };
  // transformers gives these GPT2Tokenizer's ByteLevel with the GPT-2 regex
  // (llama.cpp splits digits first for "smollm"; transformers, the oracle, does not)
  static const std::set<std::string> gpt2 = {"", "default", "gpt-2", "gpt2", "smollm", "mpt", "olmo", "jais", "trillion"};
  if (gpt2.count(pre)) return {byte_level(true)};
  static const std::set<std::string> llama3 = {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                               "midm-2.0", "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe"};
  if (llama3.count(pre)) return {split(kLlama3Split), byte_level(false)};
  static const std::set<std::string> qwen2 = {"qwen2", "stablelm2", "hunyuan", "solar-open"};
  if (qwen2.count(pre)) return {split(kQwen2Split), byte_level(false)};
  static const std::set<std::string> starcoder = {"starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"};
  if (starcoder.count(pre)) return {digits(true), byte_level(true)};
  if (pre == "deepseek-coder")
    return {split("[\\r\\n]"), split("\\s?\\p{L}+"), split("\\s?\\p{P}+"), split(kDeepseekCjk), digits(true),
            byte_level(false)};
  if (pre == "deepseek-llm")
    return {split("[\\r\\n]"), split(std::string("\\s?[") + kDeepseekLlmLetters + "]+"),
            split("\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+"), split("\\s+$"),
            split(kDeepseekCjk), digits(false), byte_level(false)};
  if (pre == "deepseek-v3" || pre == "deepseek3-llm" || pre == "hunyuan-dense" || pre == "joyai-llm")
    return {split("\\p{N}{1,3}"), split("[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"), split(kDeepseekV3Split),
            byte_level(false)};
  if (pre == "falcon")
    return {split(kPunctuation, SplitBehavior::Contiguous), byte_level(true), digits(false), split("[0-9][0-9][0-9]")};
  fail(where, ": tokenizer.ggml.pre ", quote(pre),
       " is not supported (supported: gpt-2, mpt, smollm, llama-bpe and the llama3 family, qwen2, starcoder, refact, "
       "deepseek-coder, deepseek-llm, deepseek-v3, falcon)");
}

// a flag stored as bool (or, by some writers, as an integer)
bool gguf_flag(const GgufFile& g, const char* key, bool dflt) {
  if (!g.has(key)) return dflt;
  const GgufValue& v = g.get(key);
  GP_CHECK(v.type != GgufType::STRING && v.type != GgufType::ARRAY && v.type != GgufType::F32 &&
               v.type != GgufType::F64,
           g.path(), ": ", key, " is not a bool");
  return v.i != 0;
}

int64_t gguf_token_id(const GgufFile& g, const char* key, size_t n) {
  if (!g.has(key)) return -1;
  const int64_t v = g.get_int(key);
  if (gguf_no_token(v)) return -1;  // llama.cpp's "no such token" (llama2.c's converter writes it for pad and sep)
  GP_CHECK(v >= 0 && (size_t)v < n, g.path(), ": ", key, " is ", v, ", outside the ", n, " tokens");
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------
// sources

std::unique_ptr<Tokenizer> Tokenizer::from_hf_dir(const std::string& dir) {
  GP_CHECK(is_dir(dir), dir, ": not a directory");
  const std::string path = dir + "/tokenizer.json";
  GP_CHECK(is_file(path), dir, ": has no tokenizer.json");
  const json j = parse_json(path);
  auto t = std::make_unique<BpeTokenizer>();
  t->src = path;
  try {
    GP_CHECK(j.is_object(), path, ": not a JSON object");
    GP_CHECK(j.contains("model"), path, ": has no 'model'");
    t->bpe = parse_model(path, j.at("model"));
    parse_normalizer(path, j.value("normalizer", json()), t->norm);
    parse_pre_tokenizer(path, j.value("pre_tokenizer", json()), t->pre);
    parse_decoder(path, j.value("decoder", json()), t->dec);
    parse_post_processor(path, j.value("post_processor", json()), t->prefix, t->suffix);
    if (j.contains("added_tokens") && !j.at("added_tokens").is_null()) {
      GP_CHECK(j.at("added_tokens").is_array(), path, ": added_tokens is not a list");
      for (const auto& x : j.at("added_tokens")) {
        GP_CHECK(x.is_object() && x.contains("content") && x.at("content").is_string(), path,
                 ": an added token has no content");
        AddedToken a;
        a.content = x.at("content").get<std::string>();
        a.special = x.value("special", false);
        a.lstrip = x.value("lstrip", false);
        a.rstrip = x.value("rstrip", false);
        a.normalized = x.value("normalized", !a.special);
        a.single_word = x.value("single_word", false);
        t->add_token(a);
      }
    }
    if (j.contains("truncation") && !j.at("truncation").is_null())
      fail(path, ": truncation is set; goldpath does not truncate");
  } catch (const json::exception& e) {
    fail(path, ": ", one_line(e.what()));
  }
  t->added.build(t->norm);
  apply_tokenizer_config(*t, dir);
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& g) {
  const std::string& where = g.path();
  GP_CHECK(g.has("tokenizer.ggml.model"), where, ": has no tokenizer metadata");
  const std::string model = g.get_string("tokenizer.ggml.model");
  GP_CHECK(g.has("tokenizer.ggml.tokens") && g.get("tokenizer.ggml.tokens").type == GgufType::ARRAY &&
               g.get("tokenizer.ggml.tokens").elem_type == GgufType::STRING,
           where, ": tokenizer.ggml.tokens is missing or not a string array");
  const std::vector<std::string>& tokens = g.get("tokenizer.ggml.tokens").as;
  const size_t n = tokens.size();
  GP_CHECK(n > 0 && n < (1u << 30), where, ": tokenizer.ggml.tokens has ", n, " tokens");
  std::vector<int64_t> types;
  if (g.has("tokenizer.ggml.token_type")) {
    types = g.get("tokenizer.ggml.token_type").ai;
    GP_CHECK(types.size() == n, where, ": tokenizer.ggml.token_type has ", types.size(), " entries for ", n,
             " tokens");
  }
  std::vector<std::pair<std::string, std::string>> merges;
  const bool has_merges = g.has("tokenizer.ggml.merges");
  if (has_merges) {
    const auto& ms = g.get("tokenizer.ggml.merges");
    GP_CHECK(ms.type == GgufType::ARRAY && ms.elem_type == GgufType::STRING, where,
             ": tokenizer.ggml.merges is not a string array");
    merges.reserve(ms.as.size());
    for (size_t k = 0; k < ms.as.size(); ++k) {
      const std::string& s = ms.as[k];
      const size_t sp = s.find(' ');
      GP_CHECK(sp != std::string::npos && s.find(' ', sp + 1) == std::string::npos, where, ": merge ", k, " ",
               quote(s), " is not 'a b'");
      merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    }
  }
  for (size_t k = 0; k < n; ++k)
    GP_CHECK(utf8_invalid_at(tokens[k]) == kValidUtf8, where, ": token ", k, " ", quote(tokens[k]),
             " is not valid UTF-8");

  auto t = std::make_unique<BpeTokenizer>();
  t->src = where;
  std::unordered_map<std::string, int32_t> vocab;
  vocab.reserve(n);
  bool add_bos = false;
  if (model == "gpt2") {
    // a token outside the byte alphabet is respelled from its UTF-8 bytes
    std::string bytes;
    for (size_t k = 0; k < n; ++k) {
      if (byte_level_bytes(tokens[k], bytes)) {
        vocab[tokens[k]] = (int32_t)k;
      } else {
        std::string s;
        for (unsigned char c : tokens[k]) s += byte_char(c);
        vocab[s] = (int32_t)k;
      }
    }
    t->bpe = std::make_unique<Bpe>(std::move(vocab), merges, where);
    const std::string pre = g.has("tokenizer.ggml.pre") ? g.get_string("tokenizer.ggml.pre") : "";
    t->pre = gguf_byte_level_pre(pre, where);
    Decoder d;
    d.kind = Decoder::ByteLevel;
    t->dec = {d};
  } else if (model == "llama") {
    const std::string arch = g.has("general.architecture") ? g.get_string("general.architecture") : "";
    GP_CHECK(arch.compare(0, 5, "gemma") != 0, where, ": SentencePiece tokenizer of architecture ", quote(arch),
             " is not supported");
    for (size_t k = 0; k < n; ++k) vocab[tokens[k]] = (int32_t)k;
    std::vector<float> by_id;  // scores, when they drive the merges
    if (!has_merges) {
      GP_CHECK(g.has("tokenizer.ggml.scores"), where, ": tokenizer.ggml.model 'llama' has neither merges nor scores");
      const std::vector<double>& scores = g.get("tokenizer.ggml.scores").af;
      GP_CHECK(scores.size() == n, where, ": tokenizer.ggml.scores has ", scores.size(), " entries for ", n,
               " tokens");
      // sentencepiece's BPE and llama.cpp merge by the scores themselves (Bpe::set_scores);
      // a repeated token keeps its last id's score, as the vocabulary keeps its last id
      by_id.assign(n, 0.0f);
      for (size_t k = 0; k < n; ++k) by_id[(size_t)vocab[tokens[k]]] = (float)scores[k];
    }
    const bool from_scores = !by_id.empty();
    t->bpe = std::make_unique<Bpe>(std::move(vocab), merges, where);
    if (from_scores) t->bpe->set_scores(std::move(by_id));
    t->bpe->byte_fallback = true;
    t->bpe->fuse_unk = true;
    const std::string space = "\xE2\x96\x81";
    if (from_scores && arch != "phi3") {
      // converted from a tokenizer.model: sentencepiece's normalizer as llama.cpp
      // applies it: extra spaces removed when the model says so, then "\u2581"
      // before each text fragment (the start, and after each special token)
      // when add_space_prefix (default true), and spaces as "\u2581"
      if (gguf_flag(g, "tokenizer.ggml.remove_extra_whitespaces", false)) {
        Normalizer runs, ends;
        runs.kind = ends.kind = Normalizer::Replace;
        runs.regex = std::make_shared<Regex>(" {2,}", where);
        runs.text = " ";
        ends.regex = std::make_shared<Regex>("^ +| +$", where);
        ends.text = "";
        t->norm = {runs, ends};
      }
      if (gguf_flag(g, "tokenizer.ggml.add_space_prefix", true)) {
        Normalizer p;
        p.kind = Normalizer::Prepend;
        p.text = space;
        t->norm.push_back(p);
      }
      Normalizer r;
      r.kind = Normalizer::Replace;
      r.literal = " ";
      r.text = space;
      t->norm.push_back(r);
    } else if (arch == "phi3") {  // the prefix space comes from the normalizer
      Normalizer p, r;
      p.kind = Normalizer::Prepend;
      p.text = space;
      r.kind = Normalizer::Replace;
      r.literal = " ";
      r.text = space;
      t->norm = {p, r};
    } else {  // LlamaTokenizer (converted from tokenizer.json, with merges): Metaspace, prepend "first", no split
      PreTokenizer m;
      m.kind = PreTokenizer::Metaspace;
      m.replacement = space;
      m.prepend = PreTokenizer::First;
      m.split = false;
      m.regex = Regex::literal(space, where);
      t->pre = {m};
    }
    Decoder rep, bf, fuse, strip;
    rep.kind = Decoder::Replace;
    rep.literal = space;
    rep.content = " ";
    bf.kind = Decoder::ByteFallback;
    fuse.kind = Decoder::Fuse;
    strip.kind = Decoder::Strip;
    strip.content = " ";
    strip.start = 1;
    t->dec = {rep, bf, fuse, strip};
    add_bos = true;  // llama.cpp's default for SentencePiece vocabularies
  } else {
    fail(where, ": tokenizer.ggml.model ", quote(model), " is not supported (gpt2, llama)");
  }

  // control tokens are special; user-defined ones are plain added tokens
  for (size_t k = 0; k < types.size(); ++k) {
    std::string b;
    if (types[k] == 3 && (model != "gpt2" || byte_level_bytes(tokens[k], b))) {
      AddedToken a;
      a.content = tokens[k];
      a.special = true;
      t->add_token(a);
    }
  }
  for (size_t k = 0; k < types.size(); ++k) {
    if (types[k] == 4 && t->bpe->id(tokens[k]) >= 0) {
      AddedToken a;
      a.content = tokens[k];
      t->add_token(a);
    }
  }
  // bos/eos/unk/pad become special tokens too (transformers' TokenizersBackend)
  const int64_t bos = gguf_token_id(g, "tokenizer.ggml.bos_token_id", n);
  const int64_t eos = gguf_token_id(g, "tokenizer.ggml.eos_token_id", n);
  for (int64_t id : {bos, eos, gguf_token_id(g, "tokenizer.ggml.unknown_token_id", n),
                     gguf_token_id(g, "tokenizer.ggml.padding_token_id", n)}) {
    if (id < 0) continue;
    AddedToken a;
    a.content = tokens[(size_t)id];
    a.special = true;
    t->add_token(a);
  }
  t->added.build(t->norm);
  if (bos >= 0) {
    t->bos = t->token_id(tokens[(size_t)bos]);
    t->bos_text = tokens[(size_t)bos];
  }
  if (eos >= 0) {
    t->eos = {t->token_id(tokens[(size_t)eos])};
    t->eos_text = tokens[(size_t)eos];
  }
  add_bos = gguf_flag(g, "tokenizer.ggml.add_bos_token", add_bos);
  const bool add_eos = gguf_flag(g, "tokenizer.ggml.add_eos_token", false);
  t->bos_eos_template(add_bos, add_eos);
  if (g.has("tokenizer.chat_template")) t->chat = g.get_string("tokenizer.chat_template");
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::from_path(const std::string& path) {
  GP_CHECK(!path.empty(), "tokenizer path is empty");
  GP_CHECK(path.rfind("synthetic:", 0) != 0, path, ": synthetic models have no tokenizer; give token ids");
  if (is_dir(path)) return from_hf_dir(path);
  GP_CHECK(is_file(path), path, ": no such file or directory");
  const size_t slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base == "tokenizer.json") {  // its folder: tokenizer_config.json, when there, sits beside it
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    return from_hf_dir(dir);
  }
  GP_CHECK(base.size() <= 5 || base.compare(base.size() - 5, 5, ".json") != 0, path,
           ": a JSON file other than tokenizer.json; give the tokenizer.json or its folder");
  const GgufFile g(path);  // any architecture and any tensors (none, for a vocabulary-only GGUF)
  return from_gguf(g);
}

std::unique_ptr<Tokenizer> Tokenizer::for_model(const Model& m) {
  GP_CHECK(m.format != "synthetic", m.path, ": synthetic models have no tokenizer; give token ids (--prompt-ids)");
  if (m.format == "gguf") {
    GP_CHECK(m.gguf, m.path, ": GGUF model without its metadata");
    return from_gguf(*m.gguf);
  }
  return from_hf_dir(m.path);
}

// ---------------------------------------------------------------------------
// streaming decode (tokenizers DecodeStream::step)

StreamDecoder::StreamDecoder(const Tokenizer& t, bool skip_special_tokens) : t_(t), skip_(skip_special_tokens) {}

std::string StreamDecoder::step(int32_t id) {
  static const std::string kReplacement = "\xEF\xBF\xBD";
  auto ends_bad = [](const std::string& s) {
    return s.size() >= 3 && s.compare(s.size() - 3, 3, kReplacement) == 0;
  };
  if (prefix_.empty() && !ids_.empty()) {
    std::string p = t_.decode(ids_, skip_);
    if (!ends_bad(p)) {
      prefix_ = std::move(p);
      prefix_index_ = ids_.size();
    }
  }
  ids_.push_back(id);
  const std::string s = t_.decode(ids_, skip_);
  if (s.size() > prefix_.size() && !ends_bad(s)) {
    // where tokenizers raises InvalidPrefix (the window's text no longer
    // starts with what was returned), resynchronize: return what follows the
    // longest common prefix (cut back to a character boundary) and go on
    size_t keep = 0;
    while (keep < prefix_.size() && prefix_[keep] == s[keep]) ++keep;
    while (keep > 0 && keep < s.size() && ((uint8_t)s[keep] & 0xC0) == 0x80) --keep;
    std::string out = s.substr(keep);
    const size_t new_prefix_index = ids_.size() - prefix_index_;
    ids_.erase(ids_.begin(), ids_.begin() + (std::ptrdiff_t)prefix_index_);
    prefix_ = t_.decode(ids_, skip_);
    prefix_index_ = new_prefix_index;
    return out;
  }
  return "";
}

}  // namespace gp
