// tokenizer_source_test.cpp: tokenize and detokenize read the tokenizer
// alone: a vocabulary-only GGUF of any architecture, a folder holding only
// tokenizer.json, a tokenizer.json path; and llama.cpp's "no such token"
// (0xFFFFFFFF) for optional special ids is an absent id, not an error.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/gguf.h"
#include "core/tokenizer.h"
#include "tests/core/test_files.h"
#include "tests/harness/run_goldpath.h"

namespace fs = std::filesystem;

namespace gp {
namespace {

const std::string kRoot = GOLDPATH_SOURCE_DIR;
const std::string kDefault = kRoot + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kText = "Hello world, 12345 <|im_end|> 中文 café\n\tdef f(x): return x**2  🐔";

// every tokenizer.* key of src, as the same GGUF types
void copy_tokenizer_keys(const GgufFile& src, gptest::GgufBuilder& g) {
  using namespace gptest;
  for (const auto& [k, v] : src.metadata()) {
    if (k.rfind("tokenizer.", 0) != 0) continue;
    switch (v.type) {
      case GgufType::STRING: g.str(k, v.s); break;
      case GgufType::BOOL: g.boolean(k, v.i != 0); break;
      case GgufType::U32: g.u32(k, (uint32_t)v.i); break;
      case GgufType::I32: g.i32(k, (int32_t)v.i); break;
      case GgufType::ARRAY:
        if (v.elem_type == GgufType::STRING) g.arr_str(k, v.as);
        else if (v.elem_type == GgufType::F32) g.arr_f32(k, std::vector<float>(v.af.begin(), v.af.end()));
        else g.arr_i32(k, std::vector<int32_t>(v.ai.begin(), v.ai.end()));
        break;
      default: FAIL() << "key " << k << " has a type this copy does not handle";
    }
  }
}

// SmolLM2's tokenizer in a GGUF of another architecture with no tensors at all
std::string vocab_only(const fs::path& dir, const std::string& arch) {
  gptest::GgufBuilder g;
  g.str("general.architecture", arch);
  copy_tokenizer_keys(GgufFile(kDefault), g);
  const std::string p = (dir / ("vocab-" + arch + ".gguf")).string();
  gptest::write_file(p, g.build());
  return p;
}

TEST_F(Scratch, VocabularyOnlyGgufOfAnyArchitectureTokenizes) {
  ASSERT_TRUE(fs::exists(kDefault)) << "run scripts/fetch_model.sh";
  const Ran want = run_goldpath({"tokenize", "-m", "default", "--text", kText});
  ASSERT_EQ(want.exit_code, 0) << want.err;
  for (const char* arch : {"llama", "qwen2", "starcoder2"}) {
    const std::string p = vocab_only(dir_, arch);
    const Ran got = run_goldpath({"tokenize", "-m", p, "--text", kText});
    ASSERT_EQ(got.exit_code, 0) << arch << ": " << got.err;
    EXPECT_EQ(got.out, want.out) << arch;
    std::string ids = want.out.substr(0, want.out.size() - 1);
    const Ran d = run_goldpath({"detokenize", "-m", p, "--ids", ids});
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_EQ(d.out, run_goldpath({"detokenize", "-m", "default", "--ids", ids}).out);
  }
  // generate still needs a model it can run, and says so
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "-m", vocab_only(dir_, "qwen2"), "-p", "hi"}), "qwen2"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"generate", "-m", vocab_only(dir_, "llama"), "-p", "hi"}), "llama.block_count"));
}

TEST_F(Scratch, TokenizerJsonFolderOrPathTokenizes) {
  const std::string tiny = kRoot + "/golden/models/tiny-llama";
  fs::create_directories(dir_ / "tok");
  fs::copy_file(tiny + "/tokenizer.json", dir_ / "tok/tokenizer.json");
  fs::copy_file(tiny + "/tokenizer_config.json", dir_ / "tok/tokenizer_config.json");
  const Ran want = run_goldpath({"tokenize", "-m", tiny, "--text", kText});
  ASSERT_EQ(want.exit_code, 0) << want.err;
  const Ran folder = run_goldpath({"tokenize", "-m", (dir_ / "tok").string(), "--text", kText});
  ASSERT_EQ(folder.exit_code, 0) << folder.err;  // no config.json needed
  EXPECT_EQ(folder.out, want.out);
  const Ran file = run_goldpath({"tokenize", "-m", (dir_ / "tok/tokenizer.json").string(), "--text", kText});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(file.out, want.out);
  fs::copy_file(tiny + "/config.json", dir_ / "tok/config.json");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "-m", (dir_ / "tok/config.json").string(), "--text", "a"}),
                            "other than tokenizer.json"));
  fs::create_directories(dir_ / "empty");
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "-m", (dir_ / "empty").string(), "--text", "a"}),
                            "has no tokenizer.json"));
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "-m", "synthetic:tiny", "--text", "a"}), "no tokenizer"));
}

// A runnable GGUF whose padding and separator ids are 0xFFFFFFFF, as
// llama.cpp's llama2.c converter writes them; generate --prompt runs on it.
TEST_F(Scratch, NoSuchTokenIdsAreAbsentAndGenerateRuns) {
  ASSERT_TRUE(fs::exists(kDefault)) << "run scripts/fetch_model.sh";
  const GgufFile smol(kDefault);
  gptest::TinyModel t = gptest::TinyModel::llama();
  t.vocab = (int)smol.get("tokenizer.ggml.tokens").as.size();
  t.dim = 32, t.n_heads = 2, t.n_kv_heads = 1, t.ffn = 48, t.n_layers = 1;
  t.make_weights();
  auto build = [&](int64_t pad, const std::string& name) {
    gptest::GgufBuilder g = t.gguf();
    std::vector<gptest::GgufBuilder::Kv> kept;
    for (auto& kv : g.kvs)
      if (kv.key.rfind("tokenizer.", 0) != 0) kept.push_back(kv);
    g.kvs = kept;
    copy_tokenizer_keys(smol, g);
    for (auto& kv : g.kvs)
      if (kv.key == "tokenizer.ggml.padding_token_id") kv.key = "tokenizer.ggml.padding_token_id.orig";
    g.u32("tokenizer.ggml.padding_token_id", (uint32_t)pad);
    g.u32("tokenizer.ggml.seperator_token_id", (uint32_t)pad);
    const std::string p = (dir_ / name).string();
    gptest::write_file(p, g.build());
    return p;
  };
  const std::string none = build(0xFFFFFFFFll, "none.gguf");
  const Ran r = run_goldpath({"generate", "-m", none, "-p", "Hello", "-n", "2", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Ran tok = run_goldpath({"tokenize", "-m", none, "--text", "Hello"});
  EXPECT_EQ(tok.exit_code, 0) << tok.err;
  // an id that really is out of range is still a one-line error
  EXPECT_TRUE(fails_cleanly(run_goldpath({"tokenize", "-m", build(60000, "bad.gguf"), "--text", "Hello"}),
                            "padding_token_id is 60000, outside the 49152 tokens"));
  // and a BOS of 0xFFFFFFFF is no BOS
  gptest::GgufBuilder g;
  g.str("general.architecture", "llama");
  copy_tokenizer_keys(smol, g);
  for (auto& kv : g.kvs)
    if (kv.key == "tokenizer.ggml.bos_token_id") kv.key = "tokenizer.ggml.bos_token_id.orig";
  g.u32("tokenizer.ggml.bos_token_id", 0xFFFFFFFFu);
  const std::string nb = (dir_ / "nobos.gguf").string();
  gptest::write_file(nb, g.build());
  EXPECT_EQ(Tokenizer::from_path(nb)->bos_id(), -1);
}

}  // namespace
}  // namespace gp
