// tokenizer_golden_test.cpp: every tokenizer of golden/tokenizers.h5 and
// golden/tokenizer_families.h5 (format: golden/FORMAT.md, "Tokenizer and chat
// goldens", "Tokenizer families") against what transformers (or sentencepiece)
// gave on every corpus line: encode with and without special tokens, decode
// with and without skip_special_tokens, streaming chunks and the steps that
// returned them, the hand-made decode_extra sequences, and the metadata.
// SmolLM2 runs twice, from its tokenizer.json and from the GGUF metadata,
// and the two must give the same ids. A failure names the tokenizer, the
// line and the first differing position.
#include <gtest/gtest.h>

#include <chrono>

#include "core/error.h"
#include "core/gguf.h"
#include "core/golden.h"
#include "core/quote.h"
#include "core/tokenizer.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

using gptest::exists;
using Ids = std::vector<int32_t>;

const std::string kRoot = GOLDPATH_SOURCE_DIR;
const std::string kGolden = kRoot + "/golden/tokenizers.h5";
const std::string kSmolLM2 = kRoot + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

// ---------------------------------------------------------------------------
// reading the golden encodings

std::vector<std::string> read_strings(const GoldenFile& f, const std::string& name) { return f.read_strings(name); }
std::vector<Ids> read_ragged(const GoldenFile& f, const std::string& name) { return f.read_ragged_i32(name); }

// ---------------------------------------------------------------------------
// comparisons that tell where

std::string ids_str(const Ids& v, size_t from, size_t n) {
  std::string s = "[";
  if (from > 0) s += "... ";
  for (size_t k = from; k < v.size() && k < from + n; ++k) s += (k > from ? " " : "") + std::to_string(v[k]);
  if (from + n < v.size()) s += " ...";
  return s + "]";
}

::testing::AssertionResult same_ids(const std::string& what, const Ids& want, const Ids& got) {
  if (want == got) return ::testing::AssertionSuccess();
  size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  const size_t from = k > 3 ? k - 3 : 0;
  return ::testing::AssertionFailure() << what << ": first difference at position " << k << " (lengths " << want.size()
                                       << " vs " << got.size() << "): want " << ids_str(want, from, 10) << ", got "
                                       << ids_str(got, from, 10);
}

::testing::AssertionResult same_text(const std::string& what, const std::string& want, const std::string& got) {
  if (want == got) return ::testing::AssertionSuccess();
  size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  const size_t from = k > 16 ? k - 16 : 0;
  return ::testing::AssertionFailure() << what << ": first difference at byte " << k << " (lengths " << want.size()
                                       << " vs " << got.size() << "): want " << quote(want.substr(from), 48)
                                       << ", got " << quote(got.substr(from), 48);
}

// ---------------------------------------------------------------------------
// one golden tokenizer group, loaded from one source

struct Source {
  std::string group;  // /tokenizers/<group>
  std::string from;   // "json" (its tokenizer_json folder) or "gguf" (its goldpath_model's metadata)
  std::string file = "tokenizers.h5";
};

std::string source_name(const ::testing::TestParamInfo<Source>& p) {
  std::string s = p.param.group + "_" + p.param.from;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

class TokenizerGolden : public ::testing::TestWithParam<Source> {
 protected:
  void SetUp() override {
    const std::string golden = kRoot + "/golden/" + GetParam().file;
    ASSERT_TRUE(exists(golden)) << golden << " not present";
    f_ = std::make_unique<GoldenFile>(golden);
    grp_ = "/tokenizers/" + GetParam().group;
    ASSERT_TRUE(f_->exists(grp_)) << golden << ": no group " << grp_;
    const std::string model = f_->attr_string(grp_, "goldpath_model");
    if (GetParam().from == "gguf" && model != "default") {  // a vocabulary-only GGUF of the golden
      tok_ = Tokenizer::from_path(kRoot + "/" + model);
    } else if (GetParam().from == "gguf") {
      ASSERT_TRUE(exists(kSmolLM2)) << "default model not fetched; run scripts/fetch_model.sh";
      gguf_ = std::make_unique<GgufFile>(kSmolLM2);
      tok_ = Tokenizer::from_gguf(*gguf_);
    } else {
      tok_ = Tokenizer::from_hf_dir(kRoot + "/" + f_->attr_string(grp_, "tokenizer_json"));
    }
    name_ = GetParam().group + " (" + GetParam().from + ")";
    corpus_ = read_strings(*f_, grp_ + "/corpus");
  }
  std::string line_what(const char* what, size_t i) const {
    return name_ + " " + what + ", line " + std::to_string(i) + " " + quote(corpus_[i], 40);
  }

  std::unique_ptr<GoldenFile> f_;
  std::unique_ptr<GgufFile> gguf_;
  std::unique_ptr<Tokenizer> tok_;
  std::string grp_, name_;
  std::vector<std::string> corpus_;
};

TEST_P(TokenizerGolden, Metadata) {
  EXPECT_EQ(tok_->vocab_size(), f_->attr_int(grp_, "vocab_size"));
  EXPECT_EQ(tok_->bos_id(), f_->attr_int(grp_, "bos_id"));
  EXPECT_EQ(tok_->bos_token(), f_->attr_string(grp_, "bos_token"));
  EXPECT_EQ(tok_->eos_token(), f_->attr_string(grp_, "eos_token"));
  const std::vector<int64_t> eos = f_->attr_ints(grp_, "eos_ids");
  EXPECT_EQ(tok_->eos_ids(), Ids(eos.begin(), eos.end()));
  EXPECT_EQ(tok_->chat_template(), f_->attr_string(grp_, "chat_template"));
  const std::vector<int64_t> special = f_->attr_ints(grp_, "special_ids");
  Ids ours;
  for (int32_t id = 0; id < tok_->vocab_size(); ++id)
    if (tok_->is_special(id)) ours.push_back(id);
  EXPECT_TRUE(same_ids(name_ + " special ids", Ids(special.begin(), special.end()), ours));
}

TEST_P(TokenizerGolden, Encode) {
  const std::vector<Ids> want = read_ragged(*f_, grp_ + "/ids_special");
  const std::vector<Ids> want_plain = read_ragged(*f_, grp_ + "/ids_plain");
  ASSERT_EQ(want.size(), corpus_.size());
  ASSERT_EQ(want_plain.size(), corpus_.size());
  int bad = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < corpus_.size() && bad < 5; ++i) {
    const auto r1 = same_ids(line_what("encode with special tokens", i), want[i], tok_->encode(corpus_[i], true));
    const auto r2 = same_ids(line_what("encode without special tokens", i), want_plain[i], tok_->encode(corpus_[i], false));
    bad += !r1 + !r2;
    EXPECT_TRUE(r1);
    EXPECT_TRUE(r2);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("encode_seconds_2x_corpus", std::to_string(s));
  std::printf("[ %s ] encoded %zu lines twice in %.1f ms\n", name_.c_str(), corpus_.size(), s * 1e3);
}

TEST_P(TokenizerGolden, Decode) {
  const std::vector<Ids> ids = read_ragged(*f_, grp_ + "/ids_special");
  const std::vector<std::string> want = read_strings(*f_, grp_ + "/decode");
  const std::vector<std::string> want_skip = read_strings(*f_, grp_ + "/decode_skip");
  ASSERT_EQ(want.size(), ids.size());
  ASSERT_EQ(want_skip.size(), ids.size());
  int bad = 0;
  for (size_t i = 0; i < ids.size() && bad < 5; ++i) {
    const auto r1 = same_text(line_what("decode", i), want[i], tok_->decode(ids[i], false));
    const auto r2 = same_text(line_what("decode skip_special_tokens", i), want_skip[i], tok_->decode(ids[i], true));
    bad += !r1 + !r2;
    EXPECT_TRUE(r1);
    EXPECT_TRUE(r2);
  }
}

TEST_P(TokenizerGolden, Stream) {
  const std::vector<Ids> ids = read_ragged(*f_, grp_ + "/ids_plain");
  const std::vector<std::string> chunks = read_strings(*f_, grp_ + "/stream");
  const Array<int32_t> steps = f_->read_i32(grp_ + "/stream_step");
  const Array<int64_t> line_off = f_->read_i64(grp_ + "/stream_line_offsets");
  ASSERT_EQ(steps.data.size(), chunks.size());
  ASSERT_EQ(line_off.data.size(), ids.size() + 1);
  int bad = 0;
  for (size_t i = 0; i < ids.size() && bad < 5; ++i) {
    // (step index, chunk) pairs, as stored: steps that returned nothing are left out
    std::vector<std::pair<int32_t, std::string>> want, got;
    for (int64_t c = line_off.data[i]; c < line_off.data[i + 1]; ++c)
      want.emplace_back(steps.data[(size_t)c], chunks[(size_t)c]);
    StreamDecoder sd(*tok_, false);
    for (size_t k = 0; k < ids[i].size(); ++k) {
      std::string s = sd.step(ids[i][k]);
      if (!s.empty()) got.emplace_back((int32_t)k, s);
    }
    if (want == got) continue;
    ++bad;
    size_t k = 0;
    while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
    auto show = [](const std::vector<std::pair<int32_t, std::string>>& v, size_t k) {
      return k < v.size() ? "step " + std::to_string(v[k].first) + " " + quote(v[k].second, 32) : std::string("(none)");
    };
    ADD_FAILURE() << line_what("stream", i) << ": first difference at chunk " << k << " (" << want.size() << " vs "
                  << got.size() << " chunks): want " << show(want, k) << ", got " << show(got, k);
  }
}

TEST_P(TokenizerGolden, DecodeExtra) {
  const std::vector<std::string> names = read_strings(*f_, grp_ + "/decode_extra_names");
  const std::vector<Ids> ids = read_ragged(*f_, grp_ + "/decode_extra_ids");
  const std::vector<std::string> want = read_strings(*f_, grp_ + "/decode_extra");
  const std::vector<std::string> want_skip = read_strings(*f_, grp_ + "/decode_extra_skip");
  ASSERT_EQ(ids.size(), names.size());
  ASSERT_EQ(want.size(), names.size());
  ASSERT_EQ(want_skip.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string what = name_ + " decode_extra " + names[i] + " " + ids_str(ids[i], 0, 12);
    EXPECT_TRUE(same_text(what, want[i], tok_->decode(ids[i], false)));
    EXPECT_TRUE(same_text(what + " skip_special_tokens", want_skip[i], tok_->decode(ids[i], true)));
  }
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerGolden,
                         ::testing::Values(Source{"smollm2", "json"}, Source{"smollm2", "gguf"},
                                           Source{"tiny-llama", "json"}, Source{"tiny-phi3", "json"}),
                         source_name);

// the families: each byte-level pre-tokenizer from its tokenizer.json and its
// vocabulary-only GGUF; SentencePiece BPE from a GGUF converted from a tokenizer.model
std::vector<Source> family_sources() {
  std::vector<Source> out;
  for (const char* f : {"gpt-2", "mpt", "llama-bpe", "qwen2", "starcoder", "refact", "deepseek-coder", "deepseek-llm",
                        "deepseek-v3", "falcon"})
    for (const char* from : {"json", "gguf"}) out.push_back({std::string("bpe-") + f, from, "tokenizer_families.h5"});
  for (const char* g : {"spm-bpe", "spm-bpe-ws"}) out.push_back({g, "gguf", "tokenizer_families.h5"});
  out.push_back({"spm-bpe-json", "json", "tokenizer_families.h5"});  // the same model as transformers converts it
  return out;
}
INSTANTIATE_TEST_SUITE_P(Families, TokenizerGolden, ::testing::ValuesIn(family_sources()), source_name);

// SmolLM2's GGUF metadata and the tokenizer.json transformers writes from it
// are two sources of one tokenizer: the same ids on every corpus line
TEST(TokenizerGoldenSmolLM2, GgufEqualsTokenizerJson) {
  if (!exists(kGolden)) GTEST_SKIP() << kGolden << " not present";
  if (!exists(kSmolLM2)) GTEST_SKIP() << "default model not fetched; run scripts/fetch_model.sh";
  GoldenFile f(kGolden);
  const std::string grp = "/tokenizers/smollm2";
  GgufFile g(kSmolLM2);
  auto from_gguf = Tokenizer::from_gguf(g);
  auto from_json = Tokenizer::from_hf_dir(kRoot + "/" + f.attr_string(grp, "tokenizer_json"));
  const std::vector<std::string> corpus = read_strings(f, grp + "/corpus");
  for (size_t i = 0; i < corpus.size(); ++i)
    for (bool special : {true, false})
      ASSERT_TRUE(same_ids("smollm2 gguf vs tokenizer.json, line " + std::to_string(i) + " " + quote(corpus[i], 40) +
                               (special ? " with" : " without") + " special tokens",
                           from_json->encode(corpus[i], special), from_gguf->encode(corpus[i], special)));
}

}  // namespace
}  // namespace gp
