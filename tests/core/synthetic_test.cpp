// synthetic_test.cpp: synthetic models (core/synthetic.h) and memory plans
// (core/memory_plan.h): preset shapes, spec parsing, dtypes, determinism by
// seed, the host memory cap, and plan arithmetic. The reference forward on a
// synthetic model is in tests/reference/synthetic_forward_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/memory.h"
#include "core/memory_plan.h"
#include "core/synthetic.h"

namespace gp {
namespace {

TEST(Synthetic, PresetsHaveTheCheckpointsShapes) {
  const ModelConfig& phi = synthetic_preset("phi-3-mini").cfg;
  EXPECT_EQ(phi.arch, Arch::Phi3);
  EXPECT_EQ(phi.n_layers, 32);
  EXPECT_EQ(phi.dim, 3072);
  EXPECT_EQ(phi.n_heads, 32);
  EXPECT_EQ(phi.head_dim, 96);
  EXPECT_EQ(phi.ffn_dim, 8192);
  EXPECT_EQ(phi.vocab_size, 32064);
  const ModelConfig& l2 = synthetic_preset("llama-2-7b").cfg;
  EXPECT_EQ(l2.n_layers, 32);
  EXPECT_EQ(l2.dim, 4096);
  EXPECT_EQ(l2.ffn_dim, 11008);
  EXPECT_EQ(l2.vocab_size, 32000);
  const ModelConfig& sm = synthetic_preset("smollm2-135m").cfg;
  EXPECT_EQ(sm.n_layers, 30);
  EXPECT_EQ(sm.n_heads, 9);
  EXPECT_EQ(sm.n_kv_heads, 3);
  EXPECT_EQ(sm.head_dim, 64);
  EXPECT_TRUE(sm.tied_embeddings);
  EXPECT_DOUBLE_EQ(sm.rope_theta, 100000.0);
}

TEST(Synthetic, ParameterCountsMatchThePublishedModels) {
  auto params = [](const std::string& p) {
    int64_t n = 0;
    for (const auto& w : synthetic_weights(synthetic_preset(p).cfg, DType::F16)) n += w.numel();
    return n;
  };
  EXPECT_EQ(params("llama-2-7b"), 6738415616);   // transformers' num_parameters() for Llama-2-7b-hf
  EXPECT_EQ(params("smollm2-135m"), 134515008);  // SmolLM2-135M (tied head)
  EXPECT_EQ(params("phi-3-mini"), 3821079552);   // Phi-3-mini-4k-instruct
}

TEST(Synthetic, SpecsParseAndBadOnesNameTheChoices) {
  SyntheticSpec s = parse_synthetic_spec("synthetic:phi-3-mini");
  EXPECT_EQ(s.preset, "phi-3-mini");
  EXPECT_EQ(s.dtype, DType::F16);
  EXPECT_EQ(parse_synthetic_spec("synthetic:llama-2-7b:q4_0").dtype, DType::Q4_0);
  EXPECT_EQ(parse_synthetic_spec("synthetic:tiny:q4_1").dtype, DType::Q4_1);
  try {
    parse_synthetic_spec("synthetic:gpt-5");
    FAIL() << "no error for an unknown preset";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("smollm2-135m"), std::string::npos) << e.what();
  }
  try {
    parse_synthetic_spec("synthetic:tiny:bf16");
    FAIL() << "no error for an unsupported dtype";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q4_1"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(is_synthetic_spec("models/x.gguf"));
}

TEST(Synthetic, EveryDtypeHasTheConfiguredShapesAndBytes) {
  for (DType t : synthetic_dtypes()) {
    auto m = make_synthetic_model(synthetic_preset("tiny").cfg, t, 1, "tiny");
    EXPECT_EQ(m->format, "synthetic");
    EXPECT_EQ(m->layers.size(), 2u);
    EXPECT_EQ(m->layers[0].wq.dtype, t);
    EXPECT_EQ(m->layers[0].attn_norm.dtype, DType::F32);
    EXPECT_EQ(m->tok_embd.shape, (std::vector<int64_t>{512, 64}));
    EXPECT_EQ(m->lm_head.data, m->tok_embd.data) << "tiny has a tied head";
    int64_t bytes = 0;
    for (const auto& w : synthetic_weights(m->cfg, t)) bytes += w.nbytes();
    EXPECT_EQ(m->weight_bytes(), bytes) << dtype_name(t);
    // values spread like N(0, 0.02): standard deviation within 20%, no value beyond 0.05
    std::vector<float> row(m->layers[1].w_down.cols());
    double ss = 0;
    int64_t n = 0;
    for (int64_t r = 0; r < m->layers[1].w_down.rows(); r++) {
      dequantize_row(t, m->layers[1].w_down.row(r), row.data(), (int64_t)row.size());
      for (float v : row) {
        ASSERT_LT(std::fabs(v), 0.05f) << dtype_name(t);
        ss += (double)v * v;
        n++;
      }
    }
    EXPECT_NEAR(std::sqrt(ss / n), 0.02, 0.004) << dtype_name(t);
    std::vector<float> norm(64);
    dequantize_row(DType::F32, m->layers[0].ffn_norm.data, norm.data(), 64);
    for (float v : norm) EXPECT_TRUE(v >= 0.9f && v <= 1.1f) << v;
  }
}

TEST(Synthetic, SameSeedSameBytesOtherSeedOtherBytes) {
  const ModelConfig& c = synthetic_preset("tiny").cfg;
  auto a = make_synthetic_model(c, DType::Q8_0, 7, "a");
  auto b = make_synthetic_model(c, DType::Q8_0, 7, "b");
  auto d = make_synthetic_model(c, DType::Q8_0, 8, "d");
  ASSERT_EQ(a->owned.size(), b->owned.size());
  for (size_t i = 0; i < a->owned.size(); i++) EXPECT_EQ(a->owned[i], b->owned[i]) << "tensor " << i;
  EXPECT_NE(a->layers[0].wq.nbytes, 0);
  EXPECT_NE(std::memcmp(a->layers[0].wq.data, d->layers[0].wq.data, a->layers[0].wq.nbytes), 0);
  // tensors differ from each other too (per-tensor streams)
  EXPECT_NE(std::memcmp(a->layers[0].w_gate.data, a->layers[0].w_up.data, a->layers[0].w_up.nbytes), 0);
}

TEST(Synthetic, HostMemoryCapIsCheckedBeforeAllocating) {
  set_host_memory_limit(64 << 20);
  try {
    make_synthetic_model("synthetic:phi-3-mini:q4_0");
    set_host_memory_limit(0);
    FAIL() << "a 2 GiB model was generated under a 64 MiB cap";
  } catch (const Error& e) {
    set_host_memory_limit(0);
    EXPECT_NE(std::string(e.what()).find("host memory limit"), std::string::npos) << e.what();
  }
}

TEST(MemoryPlan, CudaKvCacheIsF16AndWeightsAsStored) {
  const ModelConfig& c = synthetic_preset("llama-2-7b").cfg;
  const auto w = synthetic_weights(c, DType::F16);
  const MemoryPlan p = plan_memory("cuda", c, w, 4096, 512);
  EXPECT_EQ(p.kv_bytes_per_token, 2 * 32 * 32 * 128 * 2);  // 2 * layers * kv_heads * hd * sizeof(f16)
  EXPECT_EQ(p.kv_cache, 4096 * p.kv_bytes_per_token);      // 2 GiB at 4096 tokens
  int64_t stored = 0;
  for (const auto& e : w) stored += e.nbytes();
  EXPECT_EQ(p.weights, stored) << "f16 matrices as stored, norms f32 as CudaBackend uploads them";
  const MemoryPlan r = plan_memory("reference", c, w, 4096, 512);
  EXPECT_EQ(r.kv_bytes_per_token, 2 * p.kv_bytes_per_token) << "the reference caches f32";
  EXPECT_THROW(plan_memory("tpu", c, w, 1, 1), Error);
}

TEST(MemoryPlan, LongestContextInBudgetIsTheLastThatFits) {
  const ModelConfig& c = synthetic_preset("llama-2-7b").cfg;
  const auto w = synthetic_weights(c, DType::Q4_0);
  const int64_t budget = t4_profile().memory_bytes;
  const int64_t n = max_context_in_budget("cuda", c, w, 512, budget);
  ASSERT_GT(n, 0);
  if (n < c.max_seq_len) EXPECT_GT(plan_memory("cuda", c, w, n + 1, 512).total(), budget);
  EXPECT_LE(plan_memory("cuda", c, w, n, 512).total(), budget);
  EXPECT_EQ(max_context_in_budget("cuda", c, synthetic_weights(c, DType::F16), 512, 8LL << 30), 0)
      << "13 GiB of f16 weights do not fit 8 GiB at any context";
}

TEST(MemoryPlan, OverBudgetMessageGivesNeededAllowedAndBreakdown) {
  const ModelConfig& c = synthetic_preset("llama-2-7b").cfg;
  const MemoryPlan p = plan_memory("cuda", c, synthetic_weights(c, DType::F16), 2048, 512);
  EXPECT_NO_THROW(check_memory_budget(p, p.total(), "x"));
  try {
    check_memory_budget(p, 8LL << 30, "llama");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const char* want : {"needs 1", "allows 8.0 GiB", "weights", "KV cache", "activations", "workspace"})
      EXPECT_NE(m.find(want), std::string::npos) << want << " missing from: " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "one line";
  }
}

TEST(MemoryPlan, DecodeIsBandwidthBoundAndLongPrefillComputeBound) {
  const ModelConfig& c = synthetic_preset("llama-2-7b").cfg;
  const MemoryPlan p = plan_memory("cuda", c, synthetic_weights(c, DType::F16), 4096, 512);
  const DeviceProfile& t4 = t4_profile();
  const double decode = projected_forward_s(p, c, 1, 0, t4.bandwidth_bytes_per_s, t4.fp16_flops_per_s);
  // ~42 ms: 13 GB of weights (and the one token's KV) at 320 GB/s
  EXPECT_DOUBLE_EQ(decode, (p.weights + p.kv_bytes_per_token) / t4.bandwidth_bytes_per_s);
  const double pp = projected_forward_s(p, c, 2048, 0, t4.bandwidth_bytes_per_s, t4.fp16_flops_per_s);
  EXPECT_DOUBLE_EQ(pp, forward_flops(c, 2048, 0) / t4.fp16_flops_per_s);
  // 2 FLOPs per weight per token dominate: ~2 * 6.5e9 * 2048
  EXPECT_NEAR(forward_flops(c, 2048, 0) / (2.0 * 2048 * 6.48e9), 1.0, 0.1);
}

}  // namespace
}  // namespace gp
