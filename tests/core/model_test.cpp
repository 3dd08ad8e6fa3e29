// model_test.cpp: load_model on tiny Llama / Phi-3 models written here as
// Hugging Face directories and as GGUF files from the same weights (so the
// GGUF q/k un-permutation and the fused-weight split are checked row by row),
// on the golden tiny models when present, and on the default SmolLM2 GGUF.
// Against the golden files, the loaded weights reproduce transformers'
// embedding, q/k/v projections and MLP output from the stored activations.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>

#include <cmath>

#include "core/error.h"
#include "core/gguf.h"
#include "core/golden.h"
#include "core/model.h"
#include "core/tolerance.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

using namespace gptest;

const std::string kSmolLM2 = std::string(GOLDPATH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kGoldenModels = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/";


// rows of t (dequantized) equal rows [row0, row0 + t.rows()) of m, bit for bit
::testing::AssertionResult rows_equal(const TensorView& t, const Mat& m, int64_t row0 = 0) {
  if (t.cols() != m.cols())
    return ::testing::AssertionFailure() << t.name << ": " << t.cols() << " cols, expected " << m.cols();
  std::vector<float> row((size_t)t.cols());
  for (int64_t r = 0; r < t.rows(); ++r) {
    dequantize_row(t.dtype, t.row(r), row.data(), t.cols());
    for (int64_t c = 0; c < t.cols(); ++c) {
      float want = m.v[(size_t)((row0 + r) * m.cols() + c)];
      if (row[(size_t)c] != want)
        return ::testing::AssertionFailure() << t.name << " (" << dtype_name(t.dtype) << ") [" << r << ", " << c
                                             << "] = " << row[(size_t)c] << ", expected " << want;
    }
  }
  return ::testing::AssertionSuccess();
}

// every weight of m equals the transformers-layout weights of tiny
void expect_weights_equal(const Model& m, const TinyModel& tiny) {
  const auto& hf = tiny.hf;
  EXPECT_TRUE(rows_equal(m.tok_embd, hf.at("model.embed_tokens.weight")));
  EXPECT_TRUE(rows_equal(m.final_norm, hf.at("model.norm.weight")));
  EXPECT_TRUE(rows_equal(m.lm_head, hf.at(tiny.tied ? "model.embed_tokens.weight" : "lm_head.weight")));
  const int64_t q = (int64_t)tiny.n_heads * tiny.head_dim, kv = (int64_t)tiny.n_kv_heads * tiny.head_dim;
  ASSERT_EQ((int)m.layers.size(), tiny.n_layers);
  for (int i = 0; i < tiny.n_layers; ++i) {
    const LayerWeights& l = m.layers[(size_t)i];
    std::string p = "model.layers." + std::to_string(i) + ".";
    EXPECT_TRUE(rows_equal(l.attn_norm, hf.at(p + "input_layernorm.weight")));
    EXPECT_TRUE(rows_equal(l.ffn_norm, hf.at(p + "post_attention_layernorm.weight")));
    EXPECT_TRUE(rows_equal(l.wo, hf.at(p + "self_attn.o_proj.weight")));
    EXPECT_TRUE(rows_equal(l.w_down, hf.at(p + "mlp.down_proj.weight")));
    if (tiny.phi3) {
      const Mat& qkv = hf.at(p + "self_attn.qkv_proj.weight");
      EXPECT_TRUE(rows_equal(l.wq, qkv, 0));
      EXPECT_TRUE(rows_equal(l.wk, qkv, q));
      EXPECT_TRUE(rows_equal(l.wv, qkv, q + kv));
      const Mat& gu = hf.at(p + "mlp.gate_up_proj.weight");
      EXPECT_TRUE(rows_equal(l.w_gate, gu, 0));
      EXPECT_TRUE(rows_equal(l.w_up, gu, tiny.ffn));
    } else {
      EXPECT_TRUE(rows_equal(l.wq, hf.at(p + "self_attn.q_proj.weight")));
      EXPECT_TRUE(rows_equal(l.wk, hf.at(p + "self_attn.k_proj.weight")));
      EXPECT_TRUE(rows_equal(l.wv, hf.at(p + "self_attn.v_proj.weight")));
      EXPECT_TRUE(rows_equal(l.w_gate, hf.at(p + "mlp.gate_proj.weight")));
      EXPECT_TRUE(rows_equal(l.w_up, hf.at(p + "mlp.up_proj.weight")));
    }
  }
}

void expect_config(const ModelConfig& c, const TinyModel& t) {
  EXPECT_EQ(c.arch, t.phi3 ? Arch::Phi3 : Arch::Llama);
  EXPECT_EQ(c.n_layers, t.n_layers);
  EXPECT_EQ(c.dim, t.dim);
  EXPECT_EQ(c.n_heads, t.n_heads);
  EXPECT_EQ(c.n_kv_heads, t.n_kv_heads);
  EXPECT_EQ(c.head_dim, t.head_dim);
  EXPECT_EQ(c.ffn_dim, t.ffn);
  EXPECT_EQ(c.vocab_size, t.vocab);
  EXPECT_EQ(c.max_seq_len, t.max_seq);
  EXPECT_EQ(c.sliding_window, t.sliding_window);
  EXPECT_EQ(c.rope_theta, t.rope_theta);
  EXPECT_FLOAT_EQ((float)c.rms_eps, (float)t.rms_eps);
  EXPECT_EQ(c.tied_embeddings, t.tied);
  EXPECT_EQ(c.bos_id, 1);
}

// ---------------------------------------------------------------------------
// Hugging Face directories

TEST(Model, HfLlamaTiedF32) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.write_hf(dir / "llama");
  auto m = load_model(dir / "llama");
  EXPECT_EQ(m->format, "safetensors");
  EXPECT_EQ(m->path, dir / "llama");
  expect_config(m->cfg, t);
  EXPECT_EQ(m->cfg.eos_ids, std::vector<int>{2});
  EXPECT_EQ(m->lm_head.data, m->tok_embd.data);
  expect_weights_equal(*m, t);
  EXPECT_EQ(m->files.size(), 1u);
  EXPECT_TRUE(m->owned.empty());  // nothing copied
}

TEST(Model, HfLlamaHalfAndBf16) {
  for (const char* dt : {"f16", "bf16"}) {
    TempDir dir;
    TinyModel t = TinyModel::llama();
    t.tied = false;
    t.make_weights();
    t.write_hf(dir / "m", dt);
    auto m = load_model(dir / "m");
    EXPECT_EQ(dtype_name(m->layers[0].wq.dtype), std::string(dt));
    EXPECT_NE(m->lm_head.data, m->tok_embd.data);
    expect_weights_equal(*m, t);
  }
}

TEST(Model, HfPhi3ShardedSplitsFusedWeightsAsViews) {
  TempDir dir;
  TinyModel t = TinyModel::phi3_model();
  t.make_weights();
  t.write_hf(dir / "phi3", "f32", 3);
  auto m = load_model(dir / "phi3");
  expect_config(m->cfg, t);
  EXPECT_EQ(m->cfg.eos_ids, (std::vector<int>{2, 3}));
  EXPECT_EQ(m->files.size(), 3u);
  expect_weights_equal(*m, t);
  // row slices of the mapped fused tensors: consecutive, no copy
  const LayerWeights& l = m->layers[1];
  EXPECT_EQ(l.wk.data, l.wq.data + l.wq.nbytes);
  EXPECT_EQ(l.wv.data, l.wk.data + l.wk.nbytes);
  EXPECT_EQ(l.w_up.data, l.w_gate.data + l.w_gate.nbytes);
  EXPECT_TRUE(m->owned.empty());
  EXPECT_EQ(l.wq.shape, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(l.wk.shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(l.w_up.shape, (std::vector<int64_t>{96, 64}));
}

TEST(Model, HfDefaultsForOptionalKeys) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.write_hf(dir / "m");
  nlohmann::json c = t.config();
  for (const char* k : {"num_key_value_heads", "head_dim", "rope_theta", "tie_word_embeddings", "bos_token_id",
                        "eos_token_id", "rope_scaling", "attention_bias", "mlp_bias", "hidden_act"})
    c.erase(k);
  c["tie_word_embeddings"] = true;  // the file has no lm_head
  c["num_key_value_heads"] = nullptr;
  t.n_kv_heads = t.n_heads;
  // weights with n_kv_heads = n_heads
  t.make_weights();
  t.write_hf(dir / "m");
  write_file(dir / "m/config.json", c.dump());
  auto m = load_model(dir / "m");
  EXPECT_EQ(m->cfg.n_kv_heads, 4);
  EXPECT_EQ(m->cfg.head_dim, 16);
  EXPECT_EQ(m->cfg.rope_theta, 10000.0);
  EXPECT_EQ(m->cfg.bos_id, -1);
  EXPECT_TRUE(m->cfg.eos_ids.empty());
}

TEST(Model, HfUnsupportedFeaturesAreNamed) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.write_hf(dir / "m");
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* expect;
  } cases[] = {
      {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}}, "rope_scaling"},
      {"attention_bias", true, "attention_bias"},
      {"mlp_bias", true, "mlp_bias"},
      {"model_type", "gemma", "'gemma'"},
      {"hidden_act", "gelu", "hidden_act"},
      {"partial_rotary_factor", 0.5, "partial_rotary_factor"},
  };
  for (const auto& cs : cases) {
    nlohmann::json c = t.config();
    c[cs.key] = cs.value;
    write_file(dir / "m/config.json", c.dump());
    std::string msg = message_of([&] { load_model(dir / "m"); });
    EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(cs.expect), std::string::npos) << msg;
  }
}

TEST(Model, ShapeMismatchNamesTensorAndShapes) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.hf["model.layers.1.self_attn.k_proj.weight"].shape = {16, 128};  // same bytes, wrong shape
  t.write_hf(dir / "m");
  std::string msg = message_of([&] { load_model(dir / "m"); });
  EXPECT_NE(msg.find("model.layers.1.self_attn.k_proj.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[16, 128]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[32, 64]"), std::string::npos) << msg;
}

TEST(Model, MissingTensorIsNamed) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.hf.erase("model.layers.1.mlp.up_proj.weight");
  t.write_hf(dir / "m");
  std::string msg = message_of([&] { load_model(dir / "m"); });
  EXPECT_NE(msg.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << msg;
}

TEST(Model, UntiedWithoutLmHeadIsAnError) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();  // tied: no lm_head.weight written
  t.write_hf(dir / "m");
  nlohmann::json c = t.config();
  c["tie_word_embeddings"] = false;
  write_file(dir / "m/config.json", c.dump());
  EXPECT_NE(message_of([&] { load_model(dir / "m"); }).find("lm_head.weight"), std::string::npos);
}

// ---------------------------------------------------------------------------
// GGUF files

// llama.cpp's permute for one head of 4 rows: w.reshape(1, 2, 2, in).swapaxes(1, 2)
// gives rows 0, 2, 1, 3; checks the test's own permutation before it is trusted
TEST(Model, TestPermutationMatchesLlamaCpp) {
  Mat m{{8, 1}, {0, 1, 2, 3, 4, 5, 6, 7}};
  Mat p = TinyModel::permute_rope(m, 2);
  EXPECT_EQ(p.v, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
}

TEST(Model, GgufLlamaUnpermutesQK) {
  for (uint32_t type : {kGgmlF32, kGgmlF16, kGgmlQ8_0}) {
    TempDir dir;
    TinyModel t = TinyModel::llama();
    t.make_weights();
    write_file(dir / "m.gguf", t.gguf(type).build());
    auto m = load_model(dir / "m.gguf");
    EXPECT_EQ(m->format, "gguf");
    ASSERT_TRUE(m->gguf);
    expect_config(m->cfg, t);
    EXPECT_EQ(m->cfg.eos_ids, std::vector<int>{2});
    EXPECT_EQ(m->lm_head.data, m->tok_embd.data);
    expect_weights_equal(*m, t);  // q and k back in transformers' row order
    EXPECT_EQ(m->owned.size(), 2u * t.n_layers);
    const GgufTensorInfo* raw = m->gguf->find("blk.0.attn_q.weight");
    EXPECT_NE(m->layers[0].wq.data, raw->data);
    EXPECT_EQ(m->layers[0].wv.data, m->gguf->find("blk.0.attn_v.weight")->data);
  }
}

// without the un-permutation rows 1 and 8 (head_dim 16) of q would be swapped
TEST(Model, GgufLlamaRowsAreNotInFileOrder) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  write_file(dir / "m.gguf", t.gguf().build());
  auto m = load_model(dir / "m.gguf");
  const TensorView& wq = m->layers[0].wq;
  const uint8_t* file_rows = m->gguf->find("blk.0.attn_q.weight")->data;
  const int64_t rb = wq.row_bytes();
  EXPECT_EQ(0, std::memcmp(wq.row(0), file_rows, (size_t)rb));
  EXPECT_EQ(0, std::memcmp(wq.row(8), file_rows + 1 * rb, (size_t)rb));  // hf row 8 = (j=1, i=0) -> gguf row 1
  EXPECT_EQ(0, std::memcmp(wq.row(1), file_rows + 2 * rb, (size_t)rb));  // hf row 1 = (j=0, i=1) -> gguf row 2
}

TEST(Model, GgufPhi3SplitsFusedWeights) {
  for (uint32_t type : {kGgmlF32, kGgmlQ8_0}) {
    TempDir dir;
    TinyModel t = TinyModel::phi3_model();
    t.make_weights();
    write_file(dir / "phi3.gguf", t.gguf(type).build());
    auto m = load_model(dir / "phi3.gguf");
    expect_config(m->cfg, t);
    expect_weights_equal(*m, t);
    EXPECT_TRUE(m->owned.empty());  // phi-3 is not permuted
    EXPECT_EQ(m->layers[0].wq.data, m->gguf->find("blk.0.attn_qkv.weight")->data);
  }
}

TEST(Model, GgufAndHfGiveTheSameModel) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.write_hf(dir / "hf");
  write_file(dir / "m.gguf", t.gguf().build());
  auto a = load_model(dir / "hf");
  auto b = load_model(dir / "m.gguf");
  EXPECT_EQ(a->weight_bytes(), b->weight_bytes());
  for (int i = 0; i < t.n_layers; ++i) {
    EXPECT_EQ(0, std::memcmp(a->layers[i].wq.data, b->layers[i].wq.data, (size_t)a->layers[i].wq.nbytes));
    EXPECT_EQ(0, std::memcmp(a->layers[i].wk.data, b->layers[i].wk.data, (size_t)a->layers[i].wk.nbytes));
  }
}

TEST(Model, GgufUnsupportedFeaturesAreNamed) {
  TinyModel t = TinyModel::llama();
  t.make_weights();
  auto check = [&](GgufBuilder g, const char* expect) {
    TempDir dir;
    write_file(dir / "m.gguf", g.build());
    std::string msg = message_of([&] { load_model(dir / "m.gguf"); });
    EXPECT_NE(msg.find("m.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find(expect), std::string::npos) << msg;
  };
  GgufBuilder g = t.gguf();
  g.kvs[0] = {"general.architecture", kStr, {}};
  put_str(g.kvs[0].value, "gemma");
  check(g, "'gemma'");
  g = t.gguf();
  for (auto& kv : g.kvs)
    if (kv.key == "llama.rope.dimension_count") kv.value = {8, 0, 0, 0};
  check(g, "partial rotary");
  g = t.gguf();
  g.str("llama.rope.scaling.type", "yarn");
  check(g, "yarn");
  g = t.gguf();
  g.tensors.pop_back();  // last layer's ffn_up
  check(g, "blk.1.ffn_up.weight");
  g = t.gguf();
  g.arr_str("tokenizer.ggml.tokens", {"a"});
  check(g, "duplicate key");
}

TEST(Model, GgufVocabMustMatchTokenizer) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  GgufBuilder g = t.gguf();
  for (auto& kv : g.kvs)
    if (kv.key == "tokenizer.ggml.tokens") {
      kv.value.clear();
      put<uint32_t>(kv.value, kStr);
      put<uint64_t>(kv.value, 3);
      for (int k = 0; k < 3; ++k) put_str(kv.value, "t");
    }
  write_file(dir / "m.gguf", g.build());
  std::string msg = message_of([&] { load_model(dir / "m.gguf"); });
  EXPECT_NE(msg.find("tokenizer.ggml.tokens"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------
// views, sizes, names

TEST(Model, TensorViewSizes) {
  TensorView v;
  EXPECT_EQ(v.numel(), 0);
  v.dtype = DType::Q4_1;
  v.shape = {3, 64};
  EXPECT_EQ(v.numel(), 192);
  EXPECT_EQ(v.rows(), 3);
  EXPECT_EQ(v.cols(), 64);
  EXPECT_EQ(v.row_bytes(), 40);
  v.shape = {576};
  v.dtype = DType::F32;
  EXPECT_EQ(v.rows(), 1);
  EXPECT_EQ(v.row_bytes(), 2304);
}

TEST(Model, WeightBytesCountsTiedHeadOnce) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.write_hf(dir / "m");
  auto m = load_model(dir / "m");
  int64_t want = 0;
  for (const auto& kv : t.hf) want += (int64_t)kv.second.v.size() * 4;
  EXPECT_EQ(m->weight_bytes(), want);
}

TEST(Model, ArchNames) {
  EXPECT_STREQ(arch_name(Arch::Llama), "llama");
  EXPECT_STREQ(arch_name(Arch::Phi3), "phi3");
}

TEST(Model, BadPathsAreNamed) {
  TempDir dir;
  EXPECT_NE(message_of([&] { load_model(dir / "nope"); }).find("nope"), std::string::npos);
  std::string msg = message_of([&] { load_model(dir.path()); });  // empty directory
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.write_hf(dir / "m");
  msg = message_of([&] { load_model(dir / "m/config.json"); });
  EXPECT_NE(msg.find("directory"), std::string::npos) << msg;
}

TEST(Model, ValidateModelRejectsInconsistentConfig) {
  TempDir dir;
  TinyModel t = TinyModel::llama();
  t.make_weights();
  t.write_hf(dir / "m");
  auto m = load_model(dir / "m");
  validate_model(*m);
  m->cfg.n_kv_heads = 3;  // 4 heads are not a multiple of 3
  EXPECT_THROW(validate_model(*m), Error);
  m->cfg.n_kv_heads = 2;
  m->cfg.head_dim = 15;
  EXPECT_THROW(validate_model(*m), Error);
  m->cfg.head_dim = 16;
  m->layers.pop_back();
  EXPECT_THROW(validate_model(*m), Error);
}

// ---------------------------------------------------------------------------
// real models

TEST(Model, SmolLM2Gguf) {
  if (!exists(kSmolLM2)) GTEST_SKIP() << "default model not fetched; run scripts/fetch_model.sh";
  auto m = load_model(kSmolLM2);
  const ModelConfig& c = m->cfg;
  EXPECT_EQ(c.arch, Arch::Llama);
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.dim, 576);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.ffn_dim, 1536);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_EQ(c.max_seq_len, 8192);
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_EQ(c.rope_theta, 100000.0);
  EXPECT_FLOAT_EQ((float)c.rms_eps, 1e-5f);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.bos_id, 1);
  EXPECT_EQ(c.eos_ids, std::vector<int>{2});
  EXPECT_EQ(m->tok_embd.dtype, DType::Q8_0);
  EXPECT_EQ(m->tok_embd.shape, (std::vector<int64_t>{49152, 576}));
  EXPECT_EQ(m->lm_head.data, m->tok_embd.data);
  EXPECT_EQ(m->final_norm.dtype, DType::F32);
  for (const auto& l : m->layers) {
    EXPECT_EQ(l.wq.dtype, DType::Q4_1);
    EXPECT_EQ(l.w_down.dtype, DType::Q4_1);
    EXPECT_EQ(l.attn_norm.dtype, DType::F32);
  }
  int64_t file_bytes = 0;
  for (const auto& t : m->gguf->tensors()) file_bytes += t.nbytes;
  EXPECT_EQ(m->weight_bytes(), file_bytes);
  // q and k were un-permuted into owned buffers; the permutation keeps each head's rows in the head
  EXPECT_EQ(m->owned.size(), 60u);
  const GgufTensorInfo* raw = m->gguf->find("blk.3.attn_k.weight");
  const TensorView& wk = m->layers[3].wk;
  EXPECT_EQ(0, std::memcmp(wk.row(64 + 32), raw->data + (64 + 1) * wk.row_bytes(), (size_t)wk.row_bytes()));
}

TEST(Model, GoldenTinyModels) {
  int found = 0;
  for (const char* name : {"tiny-llama", "tiny-phi3"}) {
    std::string dir = kGoldenModels + name;
    if (!exists(dir + "/config.json")) continue;
    ++found;
    auto m = load_model(dir);
    EXPECT_EQ(m->cfg.arch, std::string(name) == "tiny-llama" ? Arch::Llama : Arch::Phi3) << dir;
    EXPECT_GT(m->weight_bytes(), 0);
    if (m->cfg.arch == Arch::Phi3) {
      EXPECT_FALSE(m->cfg.tied_embeddings);
      EXPECT_GT(m->cfg.sliding_window, 0);
      EXPECT_EQ(m->layers[0].wk.data, m->layers[0].wq.data + m->layers[0].wq.nbytes);
    }
  }
  if (!found) GTEST_SKIP() << "golden/models/tiny-* not present yet";
}

// ---------------------------------------------------------------------------
// loaded weights against the oracle's activations

// t: (rows, cols) -> (rows * cols) float32
std::vector<float> dequantize(const TensorView& t) {
  std::vector<float> out((size_t)(t.rows() * t.cols()));
  for (int64_t r = 0; r < t.rows(); ++r) dequantize_row(t.dtype, t.row(r), &out[(size_t)(r * t.cols())], t.cols());
  return out;
}

// x: (T, K), w: (N, K) -> (T, N), double accumulation
std::vector<double> linear(const std::vector<double>& x, int64_t T, const TensorView& w) {
  const std::vector<float> wf = dequantize(w);
  const int64_t N = w.rows(), K = w.cols();
  std::vector<double> y((size_t)(T * N));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += x[(size_t)(t * K + k)] * wf[(size_t)(n * K + k)];
      y[(size_t)(t * N + n)] = acc;
    }
  return y;
}

::testing::AssertionResult matches_golden(const GoldenFile& g, const std::string& ds, const std::vector<double>& got) {
  Array<float> want = g.read_f32(ds);
  if ((size_t)want.numel() != got.size())
    return ::testing::AssertionFailure() << ds << ": " << got.size() << " values, golden has " << want.numel();
  double max_want = 0, max_err = 0;
  int64_t worst = 0;
  for (int64_t k = 0; k < want.numel(); ++k) {
    max_want = std::max(max_want, (double)std::fabs(want.data[(size_t)k]));
    double e = std::fabs(got[(size_t)k] - want.data[(size_t)k]);
    if (e > max_err) max_err = e, worst = k;
  }
  double bound = kReferenceVsGolden.bound(g.attr_double(ds, "lowp_max_abs"), max_want);
  if (max_err > bound)
    return ::testing::AssertionFailure() << ds << ": max abs error " << max_err << " at flat index " << worst
                                         << " (got " << got[(size_t)worst] << ", want " << want.data[(size_t)worst]
                                         << ") exceeds " << bound << " (" << kReferenceVsGolden.reason << ")";
  return ::testing::AssertionSuccess();
}

std::vector<double> to_double(const Array<float>& a) { return std::vector<double>(a.data.begin(), a.data.end()); }

void check_against_golden(const std::string& h5) {
  if (!exists(h5)) GTEST_SKIP() << h5 << " not present";
  GoldenFile g(h5);
  std::string model = g.attr_string("/", "goldpath_model");
  std::string path = model == "default" ? kSmolLM2 : std::string(GOLDPATH_SOURCE_DIR) + "/" + model;
  if (!exists(path)) GTEST_SKIP() << path << " not present";
  auto m = load_model(path);
  const ModelConfig& c = m->cfg;

  // embedding rows of the prompt
  Array<int32_t> ids = g.read_i32("/model/prompt_ids");
  const int64_t T = ids.numel();
  std::vector<double> emb;
  std::vector<float> row((size_t)c.dim);
  for (int32_t id : ids.data) {
    dequantize_row(m->tok_embd.dtype, m->tok_embd.row(id), row.data(), c.dim);
    emb.insert(emb.end(), row.begin(), row.end());
  }
  EXPECT_TRUE(matches_golden(g, "/model/prefill/embedding", emb));

  for (int64_t i : g.attr_ints("/model/prefill/layers", "layers")) {
    const LayerWeights& l = m->layers[(size_t)i];
    std::string p = "/model/prefill/layers/" + std::to_string(i) + "/";
    std::vector<double> x = to_double(g.read_f32(p + "attn_norm"));
    EXPECT_TRUE(matches_golden(g, p + "q", linear(x, T, l.wq)));
    EXPECT_TRUE(matches_golden(g, p + "k", linear(x, T, l.wk)));
    EXPECT_TRUE(matches_golden(g, p + "v", linear(x, T, l.wv)));
    x = to_double(g.read_f32(p + "ffn_norm"));
    std::vector<double> gate = linear(x, T, l.w_gate), up = linear(x, T, l.w_up);
    for (size_t k = 0; k < gate.size(); ++k) gate[k] = gate[k] / (1.0 + std::exp(-gate[k])) * up[k];
    EXPECT_TRUE(matches_golden(g, p + "ffn_out", linear(gate, T, l.w_down)));
  }
}

TEST(ModelVsGolden, TinyLlama) { check_against_golden(std::string(GOLDPATH_SOURCE_DIR) + "/golden/tiny_llama.h5"); }
TEST(ModelVsGolden, TinyPhi3) { check_against_golden(std::string(GOLDPATH_SOURCE_DIR) + "/golden/tiny_phi3.h5"); }
// the GGUF q/k un-permutation against transformers' own GGUF loader
TEST(ModelVsGolden, SmolLM2) { check_against_golden(std::string(GOLDPATH_SOURCE_DIR) + "/golden/smollm2_135m.h5"); }

}  // namespace
}  // namespace gp
