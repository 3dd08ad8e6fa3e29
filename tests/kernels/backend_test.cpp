// backend_test.cpp: layer 3 of verification for the CUDA backends ("cuda",
// "cublas"): per-layer activations, logits and greedy tokens against every
// model golden (the checks of `goldpath verify`, harness/verify.h, with the
// float16-storage tolerance), decode through a CUDA graph bitwise equal to
// ordinary launches, and the errors a user can hit (bad ids, out of device
// memory, a bf16 weight beyond float16's range). Skips without a device.
#include <gtest/gtest.h>

#include <iostream>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "tests/core/test_files.h"
#include "tests/kernels/skip.h"
#if defined(GOLDPATH_SIM)
#include "gpsim/sim.h"
#endif
#include "core/error.h"
#include "core/golden.h"
#include "tests/core/golden_files.h"
#include "core/metrics.h"
#include "core/quant.h"
#include "core/tolerance.h"
#include "harness/backends.h"
#include "harness/verify.h"
#include "kernels/backend.h"
#include "kernels/device.h"
#include "kernels/device_memory.h"

namespace gp {
namespace {

using gptest::all_pass;
using gptest::model_golden_files;

std::string tiny_llama_dir() { return std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/tiny-llama"; }

cuda::Flavor flavor(const std::string& name) { return name == "cublas" ? cuda::Flavor::Cublas : cuda::Flavor::Custom; }

// ---------------------------------------------------------------------------
// against the goldens

struct GoldenCase {
  std::string backend;  // gptest::kCudaBackend or "cublas"
  std::string file;
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.backend << " " << c.file; }

std::vector<GoldenCase> golden_cases() {
  std::vector<GoldenCase> out;
  for (const char* b : {gptest::kCudaBackend, "cublas"})
    for (const auto& f : model_golden_files()) out.push_back({b, f});
  return out;
}

std::string golden_case_name(const ::testing::TestParamInfo<GoldenCase>& info) {
  std::string s = info.param.file.substr(info.param.file.find_last_of('/') + 1);
  s = info.param.backend + "_" + s.substr(0, s.find('.'));
  for (char& c : s)
    if (!std::isalnum((unsigned char)c)) c = '_';
  return s;
}

class CudaBackendVsGolden : public ::testing::TestWithParam<GoldenCase> {
 protected:
  // the golden, its model (skips when the model file is absent, as the
  // default model is until scripts/fetch_model.sh has run) and a backend
  void SetUp() override {
    SKIP_WITHOUT_DEVICE();
    if (GetParam().backend == "cublas") SKIP_ON_SIMULATOR("cuBLAS and cuDNN");
    g_ = std::make_unique<GoldenFile>(GetParam().file);
    std::string path;
    try {
      path = resolve_model(g_->attr_string("/", "goldpath_model"));
    } catch (const Error& e) {
      GTEST_SKIP() << e.what();
    }
    model_ = load_model(path);
#if defined(GOLDPATH_SIM)
    // the default model is 30 layers of real size: on the simulated device it
    // runs under one schedule (every kernel it uses runs under two in the op tests)
    if (is_default_model()) {
      saved_ = std::make_unique<gpsim::Config>(gpsim::config());
      gpsim::Config c = *saved_;
      c.schedules = {gpsim::Schedule{}};
      gpsim::set_config(c);
    }
#endif
    be_ = std::make_unique<cuda::CudaBackend>(*model_, flavor(GetParam().backend));
  }
  bool is_default_model() const { return g_->attr_string("/", "goldpath_model") == "default"; }
  // every step of the golden, but on the simulated device the default model
  // (30 layers, seconds per decode step there) runs its prefill and 3 decode steps
  int steps() const {
#if defined(GOLDPATH_SIM)
    if (is_default_model()) return kSimDefaultModelSteps;
#endif
    return -1;
  }
  static constexpr int kSimDefaultModelSteps = 4;
#if defined(GOLDPATH_SIM)
  void TearDown() override {
    if (saved_) gpsim::set_config(*saved_);
  }
  std::unique_ptr<gpsim::Config> saved_;
#endif

  std::unique_ptr<GoldenFile> g_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<cuda::CudaBackend> be_;
};

TEST_P(CudaBackendVsGolden, Ops) {
  if (!g_->exists("/ops")) GTEST_SKIP() << GetParam().file << " has no per-op vectors";
  EXPECT_TRUE(all_pass(verify_ops(*g_, GetParam().backend, backend_ops(GetParam().backend)), "op "));
}

TEST_P(CudaBackendVsGolden, ActivationsAndLogits) {
  const auto rs = verify_forward(*g_, *be_, *model_, steps());
  EXPECT_TRUE(all_pass(rs, "embedding"));
  EXPECT_TRUE(all_pass(rs, "layer "));
  EXPECT_TRUE(all_pass(rs, "final_norm"));
  EXPECT_TRUE(all_pass(rs, "logits"));
}

// Greedy decoding must reproduce the golden ids exactly on the tiny models.
// On SmolLM2 it is not guaranteed: its smallest top-1/top-2 logit margin over
// the golden's steps is 0.042, the size of float16 rounding noise in the
// logits, so a correct float16 implementation may pick the runner-up there and
// diverge from then on. For it the test is teacher-forced top-1 agreement (the
// golden's ids fed back at every step): at every step whose golden margin is
// more than twice the logits' float16-storage tolerance the top-1 id must be
// the golden's; steps with a smaller margin are listed, not required.
TEST_P(CudaBackendVsGolden, GreedyTokens) {
  if (!is_default_model()) {
    const CheckResult r = verify_greedy(*g_, *be_, *model_);
    EXPECT_TRUE(r.pass) << r.detail;
    return;
  }
  const auto prompt = g_->read_i32("/model/prompt_ids").data;
  const auto gen = g_->read_i32("/model/generated_ids").data;
  ASSERT_TRUE(g_->exists("/model/logits_topk_values"));
  const auto topv = g_->read_f32("/model/logits_topk_values");
  ASSERT_EQ(topv.shape.size(), 2u);
  ASSERT_GE(topv.shape[0], (int64_t)gen.size());
  ASSERT_GE(topv.shape[1], 2);
  const double lowp = g_->has_attr("/model/logits_topk_values", "lowp_max_abs")
                          ? g_->attr_double("/model/logits_topk_values", "lowp_max_abs")
                          : 0.0;
  const int64_t V = model_->cfg.vocab_size, k = topv.shape[1];
  std::vector<float> logits(V);
  be_->reset();
  int required = 0, agree = 0;
  std::string story, loose;
  const size_t n_steps = steps() < 0 ? gen.size() : std::min(gen.size(), (size_t)steps());
  for (size_t s = 0; s < n_steps; s++) {
    if (s == 0)
      be_->forward(prompt.data(), (int)prompt.size(), 0, logits.data(), false);
    else
      be_->forward(&gen[s - 1], 1, (int)(prompt.size() + s - 1), logits.data(), false);
    const float* row = topv.data.data() + s * k;
    double max_want = 0;
    for (int64_t j = 0; j < k; j++) max_want = std::max(max_want, (double)std::fabs(row[j]));
    const double margin = row[0] - row[1], noise = kHalfStorageVsReference.bound(lowp, max_want);
    const int64_t top = argmax(logits.data(), V);
    if (margin > 2 * noise) {
      required++;
      if (top == gen[s]) agree++;
      else story += str("\n  step ", s, ": top-1 ", top, ", golden ", gen[s], " (margin ", margin, " > 2 x ", noise, ")");
    } else {
      loose += str(" ", s, (top == gen[s] ? "(agrees)" : "(differs)"));
    }
  }
  EXPECT_GT(required, 0) << "no step has a margin above the float16 noise";
  EXPECT_EQ(agree, required) << "teacher-forced top-1 differs from the golden:" << story;
  if (!loose.empty()) std::printf("steps with a margin within float16 noise (not required):%s\n", loose.c_str());
}

INSTANTIATE_TEST_SUITE_P(GoldenFiles, CudaBackendVsGolden, ::testing::ValuesIn(golden_cases()), golden_case_name);

// ---------------------------------------------------------------------------
// the backend itself, on the tiny Llama

class CudaBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_DEVICE();
    if (GetParam() == "cublas") SKIP_ON_SIMULATOR("cuBLAS");
    model_ = load_model(tiny_llama_dir());
  }
  std::unique_ptr<Model> model_;
};

// Decode replayed from a CUDA graph gives the same bits as the same kernels
// launched one by one, at every position, across a KV cache growth (the
// cache starts at 64 positions, so the graph is captured again once past it).
TEST_P(CudaBackendTest, GraphDecodeEqualsLaunchedDecodeBitwise) {
  cuda::CudaBackend graph(*model_, flavor(GetParam())), plain(*model_, flavor(GetParam()));
  plain.set_use_graphs(false);
  const int V = model_->cfg.vocab_size, steps = 90;
  ASSERT_LT(steps + 5, model_->cfg.max_seq_len);
  std::vector<int32_t> prompt = {1, 17, 255, 3, 42};
  std::vector<float> a(V), b(V);
  graph.forward(prompt.data(), (int)prompt.size(), 0, a.data(), false);
  plain.forward(prompt.data(), (int)prompt.size(), 0, b.data(), false);
  ASSERT_EQ(std::memcmp(a.data(), b.data(), V * sizeof(float)), 0) << "prefill differs";
  for (int s = 0; s < steps; s++) {
    const int32_t id = (int32_t)((7 * s + 11) % V);
    const int pos = (int)prompt.size() + s;
    graph.forward(&id, 1, pos, a.data(), false);
    plain.forward(&id, 1, pos, b.data(), false);
    ASSERT_EQ(std::memcmp(a.data(), b.data(), V * sizeof(float)), 0) << "decode at position " << pos << " differs";
  }
  EXPECT_EQ(plain.graph_captures(), 0);
  // once for the first cache of 64 positions, once after it grew
  EXPECT_EQ(graph.graph_captures(), 2);
  // the same graph serves a new sequence after reset
  graph.reset();
  graph.forward(prompt.data(), (int)prompt.size(), 0, a.data(), false);
  graph.forward(&prompt[0], 1, (int)prompt.size(), a.data(), false);
  EXPECT_EQ(graph.graph_captures(), 2);
}

TEST_P(CudaBackendTest, BadTokenIdsAreErrorsAndTheBackendCarriesOn) {
  cuda::CudaBackend be(*model_, flavor(GetParam()));
  const int V = model_->cfg.vocab_size;
  std::vector<float> logits(V);
  const int32_t bad[2] = {1, V}, neg = -1, ok = 1;
  EXPECT_THROW(be.forward(bad, 2, 0, logits.data(), false), Error);
  EXPECT_THROW(be.forward(&neg, 1, 0, logits.data(), false), Error);
  EXPECT_THROW(be.forward(&ok, 1, 3, logits.data(), false), Error);  // the cache holds 0 tokens
  EXPECT_NO_THROW(be.forward(&ok, 1, 0, logits.data(), false));
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

TEST_P(CudaBackendTest, MemoryIsAccountedByCategory) {
  cuda::CudaBackend be(*model_, flavor(GetParam()));
  std::vector<float> logits(model_->cfg.vocab_size);
  const int32_t ids[3] = {1, 2, 3};
  be.forward(ids, 3, 0, logits.data(), false);
  const cuda::MemoryReport r = be.memory_report();
  EXPECT_GT(r.current[(int)cuda::MemCategory::Weights], 0);
  EXPECT_GT(r.current[(int)cuda::MemCategory::KvCache], 0);
  EXPECT_GT(r.current[(int)cuda::MemCategory::Activations], 0);
  EXPECT_GE(be.memory_bytes(), r.total_current);
  EXPECT_EQ(be.memory_bytes(), r.total_peak);
  EXPECT_GT(r.context_overhead, 0) << r.to_string();
}

// The generation path samples on the device (forward_for_sampling +
// sample_next): the same ids and the same RNG state as core's Sampler on the
// same logits, for greedy and every sampler mode, step after step.
TEST_P(CudaBackendTest, DeviceSamplingGivesTheHostSamplersTokens) {
  cuda::CudaBackend be(*model_, flavor(GetParam()));
  const int V = model_->cfg.vocab_size;
  SamplerConfig greedy, full;
  full.temperature = 0.8f;
  full.top_k = 40;
  full.top_p = 0.9f;
  full.min_p = 0.02f;
  full.repetition_penalty = 1.3f;
  full.seed = 1234;
  SamplerConfig hot = full;
  hot.temperature = 1.7f, hot.top_k = 0, hot.top_p = 1.0f, hot.min_p = 0.0f, hot.seed = 99;
  for (const SamplerConfig& sc : {greedy, full, hot}) {
    Sampler dev(sc, V), host(sc, V);
    std::vector<int32_t> history = {1, 17, 255, 3, 42, 17};
    std::vector<float> logits(V);
    be.reset();
    be.forward_for_sampling(history.data(), (int)history.size(), 0);
    for (int s = 0; s < 24; s++) {
      if (s > 0) be.forward_for_sampling(&history.back(), 1, (int)history.size() - 1);
      const int32_t id = be.sample_next(dev, history, logits.data());
      ASSERT_EQ(id, host.sample(logits.data(), history))
          << "temperature " << sc.temperature << " step " << s;
      ASSERT_EQ(dev.rng_state(), host.rng_state()) << "step " << s;
      history.push_back(id);
    }
  }
  // one sample per forward; a history id outside the vocabulary is the CPU sampler's error
  Sampler sm(greedy, V);
  EXPECT_THROW(be.sample_next(sm, {}, nullptr), Error);
  const int32_t one = 1;
  be.reset();
  be.forward_for_sampling(&one, 1, 0);
  EXPECT_TRUE(gptest::fails_with([&] { be.sample_next(sm, {V}, nullptr); }, {"history id"}));
}

INSTANTIATE_TEST_SUITE_P(Flavors, CudaBackendTest, ::testing::Values(gptest::kCudaBackend, "cublas"));

TEST(CudaDeviceMemory, OutOfMemoryIsAClearErrorAndTheProcessCarriesOn) {
  SKIP_WITHOUT_DEVICE();
  cuda::DeviceAllocator a;
  const size_t huge = (size_t)1 << 50;  // 1 PiB: no device has it
  try {
    a.allocate(huge, cuda::MemCategory::KvCache, "a test's KV cache");
    FAIL() << "1 PiB allocation succeeded";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("out of device memory"), std::string::npos) << m;
    EXPECT_NE(m.find("a test's KV cache"), std::string::npos) << m;
    EXPECT_NE(m.find("free of"), std::string::npos) << m;
  }
  EXPECT_EQ(a.total_current(), 0);
  void* p = a.allocate(1 << 20, cuda::MemCategory::Other, "a smaller request");
  EXPECT_NE(p, nullptr);
  EXPECT_EQ(a.current(cuda::MemCategory::Other), 1 << 20);
  a.release(p);
  EXPECT_EQ(a.total_current(), 0);
  EXPECT_EQ(a.total_peak(), 1 << 20);
}

TEST(CudaBackendWeights, Bf16ValueBeyondFloat16IsRefused) {
  SKIP_WITHOUT_DEVICE();
  auto base = load_model(tiny_llama_dir());
  Model m = *base;  // views into base's files, which it keeps alive too
  TensorView& wq = m.layers[0].wq;
  std::vector<uint8_t> raw(wq.numel() * 2);
  auto* v = reinterpret_cast<uint16_t*>(raw.data());
  for (int64_t i = 0; i < wq.numel(); i++) v[i] = f32_to_bf16(0.01f * (float)(i % 13 - 6));
  v[5] = f32_to_bf16(1.0e5f);  // fine in bf16, infinite in float16
  m.owned.push_back(std::move(raw));
  wq.dtype = DType::BF16;
  wq.data = m.owned.back().data();
  wq.nbytes = (int64_t)m.owned.back().size();
  try {
    cuda::CudaBackend be(m, cuda::Flavor::Custom);
    FAIL() << "a bf16 weight beyond float16's range was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("beyond float16"), std::string::npos) << msg;
    EXPECT_NE(msg.find("layer 0 wq"), std::string::npos) << msg;
  }
  // in range, the same bf16 weight is accepted
  reinterpret_cast<uint16_t*>(m.owned.back().data())[5] = f32_to_bf16(0.5f);
  EXPECT_NO_THROW(cuda::CudaBackend(m, cuda::Flavor::Custom));
}

}  // namespace
}  // namespace gp
