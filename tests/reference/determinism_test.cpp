// determinism_test.cpp: the reference is a pure function of its inputs. Two
// runs of the same prompt, each with its own model load and Backend instance,
// give bit-for-bit the same logits (compared with memcmp, so -0.0 vs 0.0 and
// NaN payloads count): SmolLM2 (the default model) for a prefill and decode
// steps; tiny-llama through generate() with every sampler stage on, where the
// same seed must give the same tokens and another seed other tokens.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/generate.h"
#include "core/golden.h"
#include "core/model.h"
#include "core/metrics.h"
#include "reference/model.h"
#include "tests/core/test_files.h"

namespace gp {
namespace {

const std::string kSmolLM2 = std::string(GOLDPATH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kTinyLlama = std::string(GOLDPATH_SOURCE_DIR) + "/golden/models/tiny-llama";

// rows of logits equal byte for byte; else the first differing row and column
::testing::AssertionResult same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " rows";
  for (size_t s = 0; s < a.size(); s++) {
    if (a[s].size() != b[s].size())
      return ::testing::AssertionFailure() << "row " << s << ": " << a[s].size() << " vs " << b[s].size() << " values";
    if (std::memcmp(a[s].data(), b[s].data(), a[s].size() * sizeof(float)) == 0) continue;
    size_t i = 0;
    while (std::memcmp(&a[s][i], &b[s][i], sizeof(float)) == 0) i++;
    return ::testing::AssertionFailure() << "row " << s << " differs first at [" << i << "]: " << a[s][i] << " vs "
                                         << b[s][i];
  }
  return ::testing::AssertionSuccess();
}

// A fresh load and backend: the prompt's last-token logits, then `steps`
// greedy decode steps; returns every logits row.
std::vector<std::vector<float>> prefill_and_decode(const std::string& path, const std::vector<int32_t>& prompt,
                                                   int steps) {
  auto m = load_model(path);
  ref::ReferenceBackend be(*m);
  const int64_t V = m->cfg.vocab_size;
  std::vector<std::vector<float>> rows;
  rows.emplace_back(V);
  be.forward(prompt.data(), (int)prompt.size(), 0, rows.back().data(), false);
  int pos = (int)prompt.size();
  for (int s = 0; s < steps; s++) {
    const int32_t next = argmax(rows.back().data(), V);
    rows.emplace_back(V);
    be.forward(&next, 1, pos++, rows.back().data(), false);
  }
  return rows;
}

TEST(Determinism, DefaultModelLogitsAreBitwiseIdenticalAcrossRuns) {
  ASSERT_TRUE(gptest::exists(kSmolLM2)) << "run scripts/fetch_model.sh";
  // the golden's chat prompt ("Create a funny joke about chickens." in SmolLM2's template)
  const std::vector<int32_t> prompt =
      GoldenFile(std::string(GOLDPATH_SOURCE_DIR) + "/golden/smollm2_135m.h5").read_i32("/model/prompt_ids").data;
  ASSERT_FALSE(prompt.empty());
  const auto a = prefill_and_decode(kSmolLM2, prompt, 4);
  const auto b = prefill_and_decode(kSmolLM2, prompt, 4);
  EXPECT_TRUE(same_bits(a, b));
}

GenerateResult sample_run(const std::string& path, const SamplerConfig& s, int n) {
  auto m = load_model(path);
  ref::ReferenceBackend be(*m);
  GenerateOptions opt;
  opt.max_new_tokens = n;
  opt.sampler = s;
  opt.stop_at_eos = false;
  opt.keep_logits = true;
  return generate(be, m->cfg, {1, 17, 42, 99, 256}, opt);
}

SamplerConfig every_stage(uint64_t seed) {
  SamplerConfig s;
  s.temperature = 0.9f;
  s.top_k = 200;
  s.top_p = 0.95f;
  s.min_p = 0.01f;
  s.repetition_penalty = 1.3f;
  s.seed = seed;
  return s;
}

TEST(Determinism, SampledTokensRepeatForTheSameSeed) {
  ASSERT_TRUE(gptest::exists(kTinyLlama + "/config.json"));
  const int n = 48;
  const GenerateResult a = sample_run(kTinyLlama, every_stage(1234), n);
  const GenerateResult b = sample_run(kTinyLlama, every_stage(1234), n);
  ASSERT_EQ((int)a.generated.size(), n);
  EXPECT_EQ(a.generated, b.generated);
  EXPECT_TRUE(same_bits(a.logits, b.logits));
  // the sampler really draws: another seed takes another path
  EXPECT_NE(a.generated, sample_run(kTinyLlama, every_stage(4321), n).generated);
}

TEST(Determinism, ResetBackendRepeatsItself) {
  // one backend reused: reset() leaves nothing behind that changes the next run
  ASSERT_TRUE(gptest::exists(kTinyLlama + "/config.json"));
  auto m = load_model(kTinyLlama);
  ref::ReferenceBackend be(*m);
  GenerateOptions opt;
  opt.max_new_tokens = 32;
  opt.sampler = every_stage(7);
  opt.stop_at_eos = false;
  opt.keep_logits = true;
  const GenerateResult a = generate(be, m->cfg, {1, 5, 9}, opt);
  const GenerateResult b = generate(be, m->cfg, {1, 5, 9}, opt);
  EXPECT_EQ(a.generated, b.generated);
  EXPECT_TRUE(same_bits(a.logits, b.logits));
}

// generate() runs forward_for_sampling + sample_next; the host defaults give
// what forward + Sampler::sample give, and refuse a sample without a forward.
TEST(Determinism, GenerationPathEqualsForwardThenSample) {
  ASSERT_TRUE(gptest::exists(kTinyLlama + "/config.json"));
  auto m = load_model(kTinyLlama);
  ref::ReferenceBackend be(*m), plain(*m);
  const int V = m->cfg.vocab_size;
  GenerateOptions opt;
  opt.max_new_tokens = 12;
  opt.sampler = every_stage(11);
  opt.stop_at_eos = false;
  opt.keep_logits = true;
  const std::vector<int32_t> prompt = {1, 5, 9};
  const GenerateResult r = generate(be, m->cfg, prompt, opt);
  Sampler host(opt.sampler, V);
  std::vector<int32_t> history = prompt;
  std::vector<float> logits(V);
  plain.forward(prompt.data(), (int)prompt.size(), 0, logits.data(), false);
  for (size_t s = 0; s < r.generated.size(); s++) {
    if (s > 0) plain.forward(&history.back(), 1, (int)history.size() - 1, logits.data(), false);
    ASSERT_EQ(std::memcmp(logits.data(), r.logits[s].data(), V * sizeof(float)), 0) << "step " << s;
    const int32_t id = host.sample(logits.data(), history);
    ASSERT_EQ(id, r.generated[s]) << "step " << s;
    history.push_back(id);
  }
  Sampler sm(opt.sampler, V);
  EXPECT_TRUE(gptest::fails_with([&] { be.sample_next(sm, {}, nullptr); }, {"without a forward_for_sampling"}));
  Sampler wrong(opt.sampler, V + 1);
  be.reset();
  be.forward_for_sampling(prompt.data(), 1, 0);
  EXPECT_TRUE(gptest::fails_with([&] { be.sample_next(wrong, {}, nullptr); }, {"sampler is for"}));
}

}  // namespace
}  // namespace gp
