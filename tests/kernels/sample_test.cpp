// sample_test.cpp: the CUDA sampler (kernels/sample.cu) gives the token the
// CPU Sampler (core/sampler.cpp) gives, and leaves the same RNG state, for
// many seeds and configurations: greedy, temperature, top-k, top-p (also
// with top_k 0 over a 151936-entry vocabulary), min-p, repetition penalty
// with repeated history ids, and logits full of ties. Device tests skip
// without a CUDA device, saying why; argument checks run everywhere.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/sampler.h"
#include "kernels/cuda_check.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "tests/kernels/device_util.h"

namespace gp {
namespace {

using gptest::Dev;

struct Case {
  const char* name;
  SamplerConfig cfg;
  int vocab;
  bool ties;  // logits on a coarse grid: many equal values
};

SamplerConfig config(float temperature, int top_k, float top_p, float min_p, float penalty) {
  SamplerConfig c;
  c.temperature = temperature;
  c.top_k = top_k;
  c.top_p = top_p;
  c.min_p = min_p;
  c.repetition_penalty = penalty;
  return c;
}

std::vector<Case> cases() {
  return {
      {"greedy", config(0.0f, 0, 1.0f, 0.0f, 1.0f), 1000, false},
      {"greedy-ties", config(0.0f, 0, 1.0f, 0.0f, 1.0f), 1000, true},
      {"greedy-penalty", config(0.0f, 0, 1.0f, 0.0f, 1.3f), 1000, false},
      {"temperature", config(0.8f, 0, 1.0f, 0.0f, 1.0f), 37, false},
      {"temperature-ties", config(1.0f, 0, 1.0f, 0.0f, 1.0f), 1000, true},
      {"top-k-1", config(1.0f, 1, 1.0f, 0.0f, 1.0f), 513, false},
      {"top-k-40", config(0.7f, 40, 1.0f, 0.0f, 1.0f), 32064, false},
      {"top-k-ties", config(1.0f, 40, 1.0f, 0.0f, 1.0f), 4097, true},
      {"top-p", config(1.0f, 0, 0.9f, 0.0f, 1.0f), 2049, false},
      {"top-k-top-p", config(0.6f, 50, 0.95f, 0.0f, 1.0f), 49152, false},
      {"min-p", config(1.2f, 0, 1.0f, 0.05f, 1.0f), 3000, false},
      {"all-filters-penalty", config(0.9f, 64, 0.8f, 0.02f, 1.2f), 32000, false},
      {"penalty-below-1", config(1.0f, 0, 1.0f, 0.0f, 0.8f), 500, false},
      {"top-p-151936", config(1.0f, 0, 0.95f, 0.0f, 1.0f), 151936, false},
      {"vocab-1", config(1.0f, 0, 0.5f, 0.0f, 1.0f), 1, false},
  };
}

// seeded logits with the spread of a real LM head (a few large ones)
std::vector<float> make_logits(int V, uint64_t seed, bool ties) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> n(0.0f, 2.0f);
  std::vector<float> l(V);
  for (float& v : l) v = ties ? std::round(n(g)) : n(g);
  std::uniform_int_distribution<int> id(0, V - 1);
  for (int i = 0; i < 5 && V > 1; i++) l[id(g)] += 8.0f;
  return l;
}

TEST(CudaSample, SameTokenAndRngStateAsCpuSampler) {
  std::string why;
  if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  for (const Case& c : cases()) {
    const int V = c.vocab;
    Dev<float> d_logits(V);
    Dev<int32_t> d_out(1), d_hist(64);
    Dev<uint64_t> d_rng(1);
    Dev<uint8_t> d_scratch(cuda::sample_scratch_bytes(V));
    const SamplerConfig p = c.cfg;  // the seed is not read: the RNG state is on the device
#if defined(GOLDPATH_SIM)
    // the simulated device runs each of the ~170 bitonic passes thread by
    // thread: every case and every mode, with fewer seeds
    const int seeds = V > 100000 ? 1 : 3;
#else
    const int seeds = V > 100000 ? 4 : 16;
#endif
    for (int s = 0; s < seeds; s++) {
      SamplerConfig cfg = c.cfg;
      cfg.seed = 1000003ull * s + 17;
      Sampler cpu(cfg, V);
      const uint64_t state0 = cfg.seed;
      d_rng.upload(&state0, 1);
      std::vector<int32_t> history;
      std::mt19937_64 g(cfg.seed);
      for (int step = 0; step < 6; step++) {
        const std::vector<float> logits = make_logits(V, cfg.seed * 31 + step, c.ties);
        const int32_t want = cpu.sample(logits.data(), history);
        d_logits.upload(logits.data(), V);
        if (!history.empty()) d_hist.upload(history.data(), history.size());
        cuda::sample(d_out.get(), d_logits.get(), V, p, d_hist.get(), (int)history.size(), d_rng.get(),
                     d_scratch.get(), nullptr);
        const int32_t got = d_out.get1();
        ASSERT_EQ(got, want) << c.name << " seed " << cfg.seed << " step " << step;
        ASSERT_EQ(d_rng.get1(), cpu.rng_state()) << c.name << " seed " << cfg.seed << " step " << step;
        // the history repeats ids (the penalty applies once per distinct id)
        history.push_back(want);
        history.push_back(std::uniform_int_distribution<int>(0, V - 1)(g));
        if (step % 2) history.push_back(want);
      }
    }
  }
}

TEST(CudaSample, NaNLogitOrBadHistoryGivesMinusOneAndNoDraw) {
  std::string why;
  if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  const int V = 100;
  std::vector<float> logits = make_logits(V, 1, false);
  Dev<float> d_logits(V);
  Dev<int32_t> d_out(1), d_hist(2);
  Dev<uint64_t> d_rng(1);
  Dev<uint8_t> d_scratch(cuda::sample_scratch_bytes(V));
  const uint64_t state0 = 42;
  for (float temperature : {0.0f, 1.0f}) {
    SamplerConfig p;
    p.temperature = temperature;
    // NaN logit: the CPU sampler throws
    std::vector<float> bad = logits;
    bad[57] = NAN;
    SamplerConfig cfg;
    cfg.temperature = temperature;
    Sampler cpu(cfg, V);
    EXPECT_THROW(cpu.sample(bad.data(), {}), Error);
    d_logits.upload(bad.data(), V);
    d_rng.upload(&state0, 1);
    cuda::sample(d_out.get(), d_logits.get(), V, p, nullptr, 0, d_rng.get(), d_scratch.get(), nullptr);
    EXPECT_EQ(d_out.get1(), -1) << "temperature " << temperature;
    EXPECT_EQ(d_rng.get1(), state0) << "temperature " << temperature;
    // history id outside the vocabulary
    const std::vector<int32_t> hist = {3, V};
    EXPECT_THROW(cpu.sample(logits.data(), hist), Error);
    d_logits.upload(logits.data(), V);
    d_hist.upload(hist.data(), 2);
    cuda::sample(d_out.get(), d_logits.get(), V, p, d_hist.get(), 2, d_rng.get(), d_scratch.get(), nullptr);
    EXPECT_EQ(d_out.get1(), -1) << "temperature " << temperature;
    EXPECT_EQ(d_rng.get1(), state0) << "temperature " << temperature;
  }
}

TEST(CudaSample, ScratchCoversTheWholeVocabulary) {
  // the sort works on all candidates: keys, ids and double probabilities
  EXPECT_GE(cuda::sample_scratch_bytes(151936), (size_t)151936 * (4 + 4 + 8));
  EXPECT_GE(cuda::sample_scratch_bytes(1), (size_t)16);
  EXPECT_THROW(cuda::sample_scratch_bytes(0), Error);
}

TEST(CudaSample, RejectsInvalidParametersBeforeLaunching) {
  SamplerConfig p;
  p.temperature = -1.0f;
  EXPECT_THROW(cuda::sample(nullptr, nullptr, 10, p, nullptr, 0, nullptr, nullptr, nullptr), Error);
  p.temperature = 1.0f;
  p.top_p = 0.0f;
  EXPECT_THROW(cuda::sample(nullptr, nullptr, 10, p, nullptr, 0, nullptr, nullptr, nullptr), Error);
  p.top_p = 1.0f;
  EXPECT_THROW(cuda::sample(nullptr, nullptr, 0, p, nullptr, 0, nullptr, nullptr, nullptr), Error);
}

}  // namespace
}  // namespace gp
