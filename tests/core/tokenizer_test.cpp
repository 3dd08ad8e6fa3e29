// tokenizer_test.cpp: the tokenizer on small hand-made vocabularies and on
// SmolLM2's GGUF, with expectations computed once with Hugging Face
// tokenizers 0.23.3 / transformers 5.24 and written here; malformed sources
// fail with one line naming the file and the problem.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/gguf.h"
#include "core/model.h"
#include "core/tokenizer.h"
#include "core/tokenizer_internal.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

using namespace gptest;
using Ids = std::vector<int32_t>;
using nlohmann::json;

const std::string kSmolLM2 = std::string(GOLDPATH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kFFFD = "\xEF\xBF\xBD";

// ---------------------------------------------------------------------------
// sources

// SentencePiece-style BPE with byte fallback and the Llama normalizer (as Llama 2 / Phi-3)
const char* kSpmJson = R"({"version":"1.0","truncation":null,"padding":null,
 "added_tokens":[
  {"id":0,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
  {"id":1,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
  {"id":2,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
  {"id":22,"content":"<|user|>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true}],
 "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},
   {"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
 "pre_tokenizer":null,
 "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},
   {"Sequence":{"id":"A","type_id":0}}],
   "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
   "special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
 "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},
   {"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
 "model":{"type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,
  "end_of_word_suffix":null,"fuse_unk":true,"byte_fallback":true,"ignore_merges":false,
  "vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0xE4>":3,"<0xB8>":4,"<0xAD>":5,"<0x0A>":6,"▁":7,"h":8,"e":9,
   "l":10,"o":11,"w":12,"r":13,"d":14,"▁h":15,"ll":16,"▁he":17,"llo":18,"▁hello":19,"▁w":20,"or":21,
   "<|user|>":22,"▁wor":23},
  "merges":["▁ h","l l","▁h e","ll o","▁he llo","▁ w","o r","▁w or"]}})";

// byte-level BPE: ids 0..255 are the bytes' characters, five merges make "Ġhello"
json byte_level_json() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[tok::byte_char((uint8_t)b)] = b;
  const char* merged[] = {"Ġh", "el", "Ġhel", "lo", "Ġhello"};
  for (int k = 0; k < 5; ++k) vocab[merged[k]] = 256 + k;
  vocab["<|im_start|>"] = 261;
  return json{
      {"version", "1.0"},
      {"added_tokens",
       {{{"id", 261}, {"content", "<|im_start|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
         {"normalized", false}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Digits"}, {"individual_digits", true}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}}}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
        {"vocab", vocab},
        {"merges", json::array({json::array({"Ġ", "h"}), json::array({"e", "l"}), json::array({"Ġh", "el"}),
                                json::array({"l", "o"}), json::array({"Ġhel", "lo"})})}}}};  // [a, b] form
}

struct Dir {
  TempDir tmp;
  std::string path() const { return tmp.path(); }
  void put(const std::string& name, const std::string& text) const { write_file(tmp / name, text); }
};

std::unique_ptr<Tokenizer> from_json(const Dir& d, const std::string& tokenizer_json, const std::string& config = "") {
  d.put("tokenizer.json", tokenizer_json);
  if (!config.empty()) d.put("tokenizer_config.json", config);
  return Tokenizer::from_hf_dir(d.path());
}

std::vector<std::string> stream(const Tokenizer& t, const Ids& ids, bool skip = false) {
  StreamDecoder s(t, skip);
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(s.step(id));
  return out;
}

// ---------------------------------------------------------------------------
// SentencePiece-style BPE

TEST(TokenizerSpm, EncodesThroughNormalizerMergesAndTemplate) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  EXPECT_EQ(t->encode("hello world", true), (Ids{1, 19, 23, 10, 14}));
  EXPECT_EQ(t->encode("hello world", false), (Ids{19, 23, 10, 14}));
  EXPECT_EQ(t->encode(" hello", true), (Ids{1, 7, 19}));
  EXPECT_EQ(t->encode("", true), (Ids{1}));
  EXPECT_EQ(t->encode("", false), (Ids{}));
}

TEST(TokenizerSpm, ByteFallbackAndFusedUnknown) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  EXPECT_EQ(t->encode("中", true), (Ids{1, 7, 3, 4, 5}));      // E4 B8 AD as <0xNN> tokens
  EXPECT_EQ(t->encode("hello\nxyz", true), (Ids{1, 19, 6, 0}));  // x, y, z: one fused <unk>
}

TEST(TokenizerSpm, AddedTokensSplitFirstAndEachPieceNormalized) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  EXPECT_EQ(t->encode("<|user|>\n  hello", true), (Ids{1, 22, 19}));  // rstrip swallows "\n  "
  EXPECT_EQ(t->encode("hello<s>hello", true), (Ids{1, 19, 1, 19}));   // each piece gets its own "▁"
}

TEST(TokenizerSpm, DecodeStripsOneSpaceAndSkipsSpecials) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  EXPECT_EQ(t->decode({1, 19, 23, 10, 14}, false), "<s> hello world");
  EXPECT_EQ(t->decode({1, 19, 23, 10, 14}, true), "hello world");
  EXPECT_EQ(t->decode({1, 19, 1, 19}, true), "hello hello");
  EXPECT_EQ(t->decode({7, 3, 4, 5}, false), "中");
  EXPECT_EQ(t->decode({0, 0, 22}, true), "");
}

TEST(TokenizerSpm, ByteFallbackGivesOneReplacementPerInvalidByte) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  EXPECT_EQ(t->decode({3, 4}, false), kFFFD + kFFFD);
  EXPECT_EQ(t->decode({3, 4, 19}, false), kFFFD + kFFFD + " hello");
}

TEST(TokenizerSpm, StreamHoldsBackIncompleteCharacters) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  EXPECT_EQ(stream(*t, {1, 19, 20, 21}), (std::vector<std::string>{"<s>", " hello", " w", "or"}));
  EXPECT_EQ(stream(*t, {1, 3, 4, 5, 19}), (std::vector<std::string>{"<s>", "", "", "中", " hello"}));
  EXPECT_EQ(stream(*t, {3, 4, 19}), (std::vector<std::string>{"", "", kFFFD + kFFFD + " hello"}));
  EXPECT_EQ(stream(*t, {0, 0, 22}), (std::vector<std::string>{"<unk>", "<unk>", "<|user|>"}));
}

// <0x0A> alone is "\n", but <0x0A><0xE4> is not UTF-8, so byte fallback makes
// it two U+FFFD: the window's text stops starting with the "\n" already
// returned, where tokenizers' DecodeStream raises InvalidPrefix; the stream
// goes on with the whole new text of the window
TEST(TokenizerSpm, StreamResynchronizesWhenByteFallbackRewritesReturnedText) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  ASSERT_EQ(t->decode({6, 3, 19}, false), kFFFD + kFFFD + " hello");
  EXPECT_EQ(stream(*t, {6, 3, 19}), (std::vector<std::string>{"\n", "", kFFFD + kFFFD + " hello"}));
  EXPECT_EQ(stream(*t, {6, 3, 4, 5, 19}), (std::vector<std::string>{"\n", "", "", "中", " hello"}));
}

TEST(TokenizerSpm, VocabularyAndSpecialTokens) {
  Dir d;
  auto t = from_json(d, kSpmJson, R"({"bos_token": "<s>", "eos_token": {"content": "</s>"},
      "chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "{{ y }}"}]})");
  EXPECT_EQ(t->vocab_size(), 24);
  EXPECT_EQ(t->bos_id(), 1);
  EXPECT_EQ(t->eos_ids(), (Ids{2}));
  EXPECT_EQ(t->bos_token(), "<s>");
  EXPECT_EQ(t->eos_token(), "</s>");
  EXPECT_EQ(t->chat_template(), "{{ y }}");
  EXPECT_EQ(t->token_id("▁hello"), 19);
  EXPECT_EQ(t->token_id("nope"), -1);
  EXPECT_EQ(t->token_text(3), "<0xE4>");
  EXPECT_TRUE(t->is_special(22));
  EXPECT_FALSE(t->is_special(19));
}

TEST(TokenizerSpm, ChatTemplateJinjaFileWins) {
  Dir d;
  d.put("chat_template.jinja", "from the file");
  auto t = from_json(d, kSpmJson, R"({"chat_template": "from the config"})");
  EXPECT_EQ(t->chat_template(), "from the file");
}

// ---------------------------------------------------------------------------
// byte-level BPE

TEST(TokenizerByteLevel, EncodesWithDigitsAndGpt2Regex) {
  Dir d;
  auto t = from_json(d, byte_level_json().dump());
  EXPECT_EQ(t->encode("hello hello", true), (Ids{104, 257, 259, 260}));
  EXPECT_EQ(t->encode(" hello 123", true), (Ids{260, 32, 49, 50, 51}));
  EXPECT_EQ(t->encode("<|im_start|>hello", false), (Ids{261, 104, 257, 259}));
  EXPECT_EQ(t->encode("x²\u00a0 é🐔", false), (Ids{120, 194, 178, 194, 160, 32, 195, 169, 240, 159, 144, 148}));
}

TEST(TokenizerByteLevel, DecodeInvalidUtf8LikeFromUtf8Lossy) {
  Dir d;
  auto t = from_json(d, byte_level_json().dump());
  EXPECT_EQ(t->decode({228, 184, 173}, false), "中");
  EXPECT_EQ(t->decode({228, 184}, false), kFFFD);  // one maximal invalid subpart
  EXPECT_EQ(t->decode({240, 159, 144}, false), kFFFD);
  EXPECT_EQ(t->decode({244, 144, 128, 128}, false), kFFFD + kFFFD + kFFFD + kFFFD);  // above U+10FFFF
  EXPECT_EQ(t->decode({237, 160, 128}, false), kFFFD + kFFFD + kFFFD);               // a surrogate
  EXPECT_EQ(t->decode({192, 128}, false), kFFFD + kFFFD);                            // overlong
  EXPECT_EQ(t->decode({261, 260, 255, 128}, false), "<|im_start|> hello" + kFFFD + kFFFD);
  EXPECT_EQ(t->decode({261, 260}, true), " hello");
}

TEST(TokenizerByteLevel, StreamWaitsForTheWholeEmoji) {
  Dir d;
  auto t = from_json(d, byte_level_json().dump());
  EXPECT_EQ(stream(*t, {240, 159, 144, 148}), (std::vector<std::string>{"", "", "", "🐔"}));
  EXPECT_EQ(stream(*t, {261, 260, 255, 128}), (std::vector<std::string>{"<|im_start|>", " hello", "", ""}));
  EXPECT_EQ(stream(*t, {261, 260}, true), (std::vector<std::string>{"", " hello"}));
}

// clean_up_tokenization_spaces turns " ." into "." across tokens: the
// window's text stops starting with the " " already returned, where
// tokenizers' DecodeStream raises InvalidPrefix; the stream goes on with what
// follows the common prefix (the space, already printed, stays printed)
TEST(TokenizerByteLevel, StreamResynchronizesWhenCleanUpRewritesReturnedText) {
  Dir d;
  const std::string cfg = R"({"clean_up_tokenization_spaces": true,
    "clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output": true})";
  auto t = from_json(d, byte_level_json().dump(), cfg);
  ASSERT_EQ(t->decode({104, 32, 46, 120}, false), "h.x");
  EXPECT_EQ(stream(*t, {104, 32, 46, 120}), (std::vector<std::string>{"h", " ", "", ".x"}));
  EXPECT_EQ(stream(*t, {104, 32, 44, 32, 260}), (std::vector<std::string>{"h", " ", "", ", ", " hello"}));
}

TEST(TokenizerByteLevel, MergesAsStringsOrPairsAreTheSame) {
  json j = byte_level_json();
  Dir a, b;
  auto ta = from_json(a, j.dump());
  j["model"]["merges"] = {"Ġ h", "e l", "Ġh el", "l o", "Ġhel lo"};
  auto tb = from_json(b, j.dump());
  for (const char* s : {"hello hello", " hello", "hel lo"}) EXPECT_EQ(ta->encode(s, false), tb->encode(s, false)) << s;
}

// tokenizers' regexes are Oniguruma's: \s is White_Space, which U+180E is not (PCRE2's \s has it)
TEST(TokenizerRegex, WhitespaceIsTheWhiteSpaceProperty) {
  tok::Regex re("\\s+", "test");
  EXPECT_TRUE(re.find_all("a\u180eb").empty());
  EXPECT_EQ(re.find_all("a\u00a0\u3000b").size(), 1u);
  const std::string s = "don't  stop 42x";
  std::vector<std::string> pieces;
  for (const auto& [b, e] : tok::gpt2_regex()->find_all(s)) pieces.push_back(s.substr(b, e - b));
  EXPECT_EQ(pieces, (std::vector<std::string>{"don", "'t", " ", " stop", " 42", "x"}));
}

// ---------------------------------------------------------------------------
// GGUF SentencePiece vocabulary (merges rebuilt from scores, as transformers does)

GgufBuilder spm_gguf(const std::string& arch) {
  const json vocab = json::parse(kSpmJson)["model"]["vocab"];
  std::vector<std::string> tokens(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) tokens[it.value().get<size_t>()] = it.key();
  std::vector<int32_t> types(tokens.size(), 1);
  std::vector<float> scores(tokens.size(), 0.0f);
  for (size_t k = 0; k < tokens.size(); ++k) {
    types[k] = k == 0 ? 2 : k <= 2 || k == 22 ? 3 : k <= 6 ? 6 : 1;
    if (k >= 7) scores[k] = -(float)k;
  }
  GgufBuilder g;
  g.str("general.architecture", arch);
  g.str("tokenizer.ggml.model", "llama");
  g.arr_str("tokenizer.ggml.tokens", tokens);
  g.arr_f32("tokenizer.ggml.scores", scores);
  g.arr_i32("tokenizer.ggml.token_type", types);
  g.u32("tokenizer.ggml.bos_token_id", 1);
  g.u32("tokenizer.ggml.eos_token_id", 2);
  g.u32("tokenizer.ggml.unknown_token_id", 0);
  return g;
}

// A "llama" vocabulary with scores and no merges was converted from a
// tokenizer.model: sentencepiece's rules as llama.cpp applies them (the
// prefix "\u2581" before the text and after each special token, even where
// the text starts with a space; merges by score). golden/tokenizer_families.h5
// holds sentencepiece's own ids for a trained model.
TEST(TokenizerGgufSpm, LlamaFromScoresIsSentencePiece) {
  TempDir dir;
  write_file(dir / "t.gguf", spm_gguf("llama").build());
  GgufFile g(dir / "t.gguf");
  auto t = Tokenizer::from_gguf(g);
  EXPECT_EQ(t->encode("hello world", true), (Ids{1, 19, 23, 10, 14}));
  EXPECT_EQ(t->encode(" hello", true), (Ids{1, 7, 19}));
  EXPECT_EQ(t->encode("<|user|>\n hello", true), (Ids{1, 22, 7, 6, 19}));
  EXPECT_EQ(t->encode("中", true), (Ids{1, 7, 3, 4, 5}));
  EXPECT_EQ(t->encode("hello\nq", true), (Ids{1, 19, 6}));  // no byte token for q, no unk in the model
  EXPECT_EQ(t->decode({1, 22, 7, 6, 19}, false), "<s><|user|> \n hello");
  EXPECT_EQ(t->decode({1, 22, 7, 6, 19}, true), "\n hello");
}

// tokenizer.ggml.add_space_prefix false: no prefix; remove_extra_whitespaces:
// runs of spaces are one, none at the ends (sentencepiece's normalizer)
TEST(TokenizerGgufSpm, AddSpacePrefixAndRemoveExtraWhitespacesAreHonoured) {
  TempDir dir;
  GgufBuilder b = spm_gguf("llama");
  b.boolean("tokenizer.ggml.add_space_prefix", false);
  write_file(dir / "a.gguf", b.build());
  auto a = Tokenizer::from_gguf(GgufFile(dir / "a.gguf"));
  EXPECT_NE(a->encode("hello", false), (Ids{19}));  // "hello" without the prefix is not the piece "\u2581hello"
  EXPECT_EQ(a->encode(" hello", false), (Ids{19}));  // its own space is
  GgufBuilder c = spm_gguf("llama");
  c.boolean("tokenizer.ggml.remove_extra_whitespaces", true);
  write_file(dir / "c.gguf", c.build());
  auto r = Tokenizer::from_gguf(GgufFile(dir / "c.gguf"));
  EXPECT_EQ(r->encode("  hello   world ", false), r->encode("hello world", false));
  EXPECT_EQ(r->encode("hello world", false), (Ids{19, 23, 10, 14}));
}

TEST(TokenizerGgufSpm, Phi3UsesTheNormalizer) {
  TempDir dir;
  write_file(dir / "t.gguf", spm_gguf("phi3").build());
  GgufFile g(dir / "t.gguf");
  auto t = Tokenizer::from_gguf(g);
  EXPECT_EQ(t->encode(" hello", true), (Ids{1, 7, 19}));
  EXPECT_EQ(t->encode("<|user|>\n hello", true), (Ids{1, 22, 7, 6, 19}));
  EXPECT_EQ(t->decode({1, 22, 7, 6, 19}, false), "<s><|user|> \n hello");
}

// ---------------------------------------------------------------------------
// SmolLM2's GGUF (transformers' AutoTokenizer.from_pretrained(gguf_file=...))

class TokenizerSmolLM2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!exists(kSmolLM2)) GTEST_SKIP() << "default model not fetched; run scripts/fetch_model.sh";
    g_ = std::make_unique<GgufFile>(kSmolLM2);
    t_ = Tokenizer::from_gguf(*g_);
  }
  std::unique_ptr<GgufFile> g_;
  std::unique_ptr<Tokenizer> t_;
};

TEST_F(TokenizerSmolLM2, SpecialTokensAreWhole) {
  EXPECT_EQ(t_->encode("<|im_start|>", true), (Ids{1}));
  EXPECT_EQ(t_->encode("<|im_start|>user\nWhat is 2+2?<|im_end|>\n", true),
            (Ids{1, 4093, 198, 1780, 314, 216, 34, 27, 34, 47, 2, 198}));
  EXPECT_EQ(t_->encode("<|im_start", false), (Ids{44, 108, 306, 79, 3738}));
}

TEST_F(TokenizerSmolLM2, EncodesText) {
  EXPECT_EQ(t_->encode(" hello", true), (Ids{33662}));
  EXPECT_EQ(t_->encode("Create a funny joke about chickens.", true), (Ids{11870, 253, 17025, 24021, 563, 18345, 30}));
  EXPECT_EQ(t_->encode("hello world  123456 ok.", true), (Ids{28120, 905, 216, 216, 33, 34, 35, 36, 37, 38, 10907, 30}));
  EXPECT_EQ(t_->encode("日本語 🐔", true), (Ids{23274, 115, 40993, 179, 120, 248, 15107, 234, 238}));
}

TEST_F(TokenizerSmolLM2, Metadata) {
  EXPECT_EQ(t_->vocab_size(), 49152);
  EXPECT_EQ(t_->bos_id(), 1);
  EXPECT_EQ(t_->eos_ids(), (Ids{2}));
  EXPECT_EQ(t_->bos_token(), "<|im_start|>");
  EXPECT_EQ(t_->eos_token(), "<|im_end|>");
  EXPECT_NE(t_->chat_template().find("<|im_start|>"), std::string::npos);
  EXPECT_TRUE(t_->is_special(16));
  EXPECT_FALSE(t_->is_special(17));
  EXPECT_EQ(t_->token_text(33662), "Ġhello");
}

TEST_F(TokenizerSmolLM2, DecodeAndStream) {
  const Ids ids = {1, 4093, 198, 28120, 2, 23274, 115, 40993, 179, 120, 248, 15107, 234, 238};
  EXPECT_EQ(t_->decode(ids, false), "<|im_start|>user\nhello<|im_end|>日本語 🐔");
  EXPECT_EQ(t_->decode(ids, true), "user\nhello日本語 🐔");
  EXPECT_EQ(t_->decode({15107}, false), " " + kFFFD);  // " " and the first two bytes of 🐔
  EXPECT_EQ(t_->decode({15107, 234}, false), " " + kFFFD);
  EXPECT_EQ(stream(*t_, {15107, 234, 238}), (std::vector<std::string>{"", "", " 🐔"}));
}

TEST_F(TokenizerSmolLM2, ForModelReadsTheGgufMetadata) {
  auto m = load_model(kSmolLM2);
  auto t = Tokenizer::for_model(*m);
  EXPECT_EQ(t->encode("<|im_start|>", true), (Ids{1}));
}

// ---------------------------------------------------------------------------
// what is refused

TEST(TokenizerErrors, OtherModelTypes) {
  for (const char* type : {"WordPiece", "Unigram", "WordLevel"}) {
    Dir d;
    d.put("tokenizer.json", json{{"model", {{"type", type}, {"vocab", json::object()}}}}.dump());
    EXPECT_TRUE(fails_with([&] { Tokenizer::from_hf_dir(d.path()); },
                           {"tokenizer.json", "model type '" + std::string(type) + "'", "not supported"}));
  }
}

TEST(TokenizerErrors, BadJson) {
  Dir d;
  d.put("tokenizer.json", "{\"model\": {\"type\": \"BPE\",");
  EXPECT_TRUE(fails_with([&] { Tokenizer::from_hf_dir(d.path()); }, {"tokenizer.json", "invalid JSON"}));
  Dir c;
  c.put("tokenizer_config.json", "[1, 2");
  EXPECT_TRUE(fails_with([&] { from_json(c, kSpmJson); }, {"tokenizer_config.json", "invalid JSON"}));
}

TEST(TokenizerErrors, MergeNamesUnknownToken) {
  json j = byte_level_json();
  j["model"]["merges"].push_back(json::array({"Ġhello", "xyz"}));
  Dir d;
  EXPECT_TRUE(fails_with([&] { from_json(d, j.dump()); }, {"tokenizer.json", "merge 5", "'xyz'", "not in the vocabulary"}));
}

TEST(TokenizerErrors, UnsupportedPipelineParts) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"normalizer", {{"type", "NFC"}}},
      {"normalizer", {{"type", "Sequence"}, {"normalizers", {{{"type", "NFKC"}}}}}},
      {"pre_tokenizer", {{"type", "Whitespace"}}},
      {"decoder", {{"type", "WordPiece"}}},
      {"post_processor", {{"type", "SomethingNew"}}}};
  for (const auto& [part, value] : cases) {
    json j = byte_level_json();
    j[part] = value;
    Dir d;
    const std::string name = value.contains("normalizers") ? "NFKC" : value["type"].get<std::string>();
    EXPECT_TRUE(fails_with([&] { from_json(d, j.dump()); }, {"tokenizer.json", part, "'" + name + "'", "not supported"}));
  }
}

TEST(TokenizerErrors, MissingTokenizerJson) {
  Dir d;
  EXPECT_TRUE(fails_with([&] { Tokenizer::from_hf_dir(d.path()); }, {d.path(), "has no tokenizer.json"}));
}

TEST(TokenizerErrors, GgufWithoutTokenizerMetadata) {
  TempDir dir;
  GgufBuilder g;
  g.str("general.architecture", "llama");
  write_file(dir / "bare.gguf", g.build());
  GgufFile f(dir / "bare.gguf");
  EXPECT_TRUE(fails_with([&] { Tokenizer::from_gguf(f); }, {"bare.gguf: has no tokenizer metadata"}));
}

TEST(TokenizerErrors, GgufUnknownModelOrPreTokenizer) {
  TempDir dir;
  GgufBuilder g = spm_gguf("llama");
  g.kvs[1].value.clear();
  put_str(g.kvs[1].value, "bert");
  write_file(dir / "a.gguf", g.build());
  GgufFile a(dir / "a.gguf");
  EXPECT_TRUE(fails_with([&] { Tokenizer::from_gguf(a); }, {"a.gguf", "tokenizer.ggml.model 'bert'", "not supported"}));

  GgufBuilder h;
  h.str("tokenizer.ggml.model", "gpt2");
  h.str("tokenizer.ggml.pre", "tekken");  // a pre-tokenizer goldpath does not know yet
  h.arr_str("tokenizer.ggml.tokens", {"a", "b", "ab"});
  h.arr_str("tokenizer.ggml.merges", {"a b"});
  write_file(dir / "b.gguf", h.build());
  GgufFile b(dir / "b.gguf");
  EXPECT_TRUE(fails_with([&] { Tokenizer::from_gguf(b); }, {"b.gguf", "tokenizer.ggml.pre 'tekken'", "not supported"}));
}

TEST(TokenizerErrors, InvalidUtf8NamesTheByteOffset) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  EXPECT_TRUE(fails_with([&] { t->encode("hello \xE4\xB8 world", true); }, {"not valid UTF-8", "byte offset 6"}));
  EXPECT_TRUE(fails_with([&] { t->encode("\xC0\x80", true); }, {"byte offset 0"}));  // overlong NUL
  EXPECT_TRUE(fails_with([&] { t->encode("ok\xED\xA0\x80", true); }, {"byte offset 2"}));  // surrogate
}

TEST(TokenizerErrors, DecodeIdOutsideVocabulary) {
  Dir d;
  auto t = from_json(d, kSpmJson);
  EXPECT_TRUE(fails_with([&] { t->decode({1, 24}, false); }, {"id 24", "position 1", "outside the vocabulary"}));
  EXPECT_TRUE(fails_with([&] { t->decode({-1}, false); }, {"id -1"}));
}

}  // namespace
}  // namespace gp

namespace gp {
namespace {

// Characters Unicode assigned after PCRE2's tables (core/unicode_supplement.h)
// are in their category, as in tokenizers' Oniguruma: U+1FABF GOOSE (Unicode
// 15) is \p{S}, inside and outside a class and negated; U+0378 stays unassigned.
TEST(TokenizerRegex, NewerCharactersAreInTheirCategory) {
  const std::string goose = "\xF0\x9F\xAA\xBF", none = "\xCD\xB8";
  EXPECT_EQ(tok::Regex("\\p{S}", "t").find_all("a" + goose).size(), 1u);
  EXPECT_EQ(tok::Regex("[\\p{P}\\p{S}]+", "t").find_all(goose + "!").size(), 1u);
  EXPECT_EQ(tok::Regex("\\P{S}", "t").find_all(goose).size(), 0u);
  EXPECT_EQ(tok::Regex("[^\\s\\p{L}\\p{S}]", "t").find_all(goose).size(), 0u);
  EXPECT_EQ(tok::Regex("\\p{S}", "t").find_all(none).size(), 0u);
  EXPECT_EQ(tok::Regex("[]\\p{S}]", "t").find_all("]" + goose).size(), 2u);  // a leading ] is a literal
}

}  // namespace
}  // namespace gp
