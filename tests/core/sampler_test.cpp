// sampler_test.cpp: the sampler follows its specification (core/sampler.h).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "core/error.h"
#include "core/sampler.h"
#include "core/sampler_math.h"

namespace gp {
namespace {

std::vector<float> logits_of(std::vector<double> probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back((float)std::log(p));
  return l;
}

TEST(Sampler, SplitMix64MatchesPublishedSequence) {
  // first outputs of SplitMix64 seeded with 0 (Vigna's reference implementation)
  uint64_t s = 0;
  EXPECT_EQ(splitmix64_next(&s), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(splitmix64_next(&s), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(splitmix64_next(&s), 0x06C45D188009454Full);
}

TEST(Sampler, Uniform01IsHalfOpen) {
  EXPECT_EQ(uniform01(0), 0.0);
  EXPECT_LT(uniform01(~0ull), 1.0);
  EXPECT_DOUBLE_EQ(uniform01(1ull << 63), 0.5);
}

TEST(Sampler, GreedyTakesArgmaxLowestIdOnTies) {
  Sampler s(SamplerConfig{}, 5);
  std::vector<float> l = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
  EXPECT_EQ(s.sample(l.data(), {}), 1);
  EXPECT_EQ(s.rng_state(), 0u) << "greedy must not draw";
}

TEST(Sampler, RepetitionPenaltyFollowsTransformersRule) {
  EXPECT_FLOAT_EQ(repetition_penalize(2.0f, 2.0f), 1.0f);
  EXPECT_FLOAT_EQ(repetition_penalize(-2.0f, 2.0f), -4.0f);
  SamplerConfig c;
  c.repetition_penalty = 4.0f;
  Sampler s(c, 3);
  std::vector<float> l = {3.0f, 2.0f, 0.0f};
  EXPECT_EQ(s.sample(l.data(), {0, 0}), 1) << "3/4 < 2: the repeated id loses";
  EXPECT_EQ(s.sample(l.data(), {}), 0);
}

TEST(Sampler, SameSeedSameTokensOtherSeedOtherTokens) {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.seed = 1234;
  std::vector<float> l = logits_of({0.1, 0.2, 0.3, 0.25, 0.15});
  auto draw = [&](uint64_t seed) {
    SamplerConfig cc = c;
    cc.seed = seed;
    Sampler s(cc, 5);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; i++) out.push_back(s.sample(l.data(), {}));
    return out;
  };
  EXPECT_EQ(draw(1234), draw(1234));
  EXPECT_NE(draw(1234), draw(1235));
}

TEST(Sampler, DrawMatchesTheSpecifiedWalk) {
  // temperature 1, no filters: the token is the first whose cumulative
  // probability (sorted by logit) exceeds u, u from SplitMix64.
  std::vector<double> p = {0.1, 0.4, 0.2, 0.3};  // sorted order: 1, 3, 2, 0
  std::vector<float> l = logits_of(p);
  SamplerConfig c;
  c.temperature = 1.0f;
  c.seed = 99;
  Sampler s(c, 4);
  uint64_t st = 99;
  const int order[] = {1, 3, 2, 0};
  for (int i = 0; i < 200; i++) {
    const double u = uniform01(splitmix64_next(&st));
    double cum = 0;
    int want = 0;
    for (int j = 0; j < 4; j++) {
      cum += p[order[j]];
      want = order[j];
      if (cum > u) break;
    }
    // boundaries within 1e-6 of u are ambiguous in float32 logits: skip them
    double c2 = 0;
    bool near = false;
    for (int j = 0; j < 4; j++) near |= std::fabs((c2 += p[order[j]]) - u) < 1e-6;
    const int got = s.sample(l.data(), {});
    if (!near) EXPECT_EQ(got, want) << "draw " << i << " u=" << u;
  }
}

TEST(Sampler, FrequenciesFollowProbabilities) {
  std::vector<double> p = {0.05, 0.5, 0.2, 0.25};
  std::vector<float> l = logits_of(p);
  SamplerConfig c;
  c.temperature = 1.0f;
  c.seed = 7;
  Sampler s(c, 4);
  std::map<int, int> n;
  const int draws = 20000;
  for (int i = 0; i < draws; i++) n[s.sample(l.data(), {})]++;
  // fixed seed: deterministic; 5 sigma of a binomial
  for (int i = 0; i < 4; i++)
    EXPECT_NEAR((double)n[i] / draws, p[i], 5 * std::sqrt(p[i] * (1 - p[i]) / draws)) << "id " << i;
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplerConfig c;
  c.temperature = 2.0f;
  c.top_k = 1;
  c.seed = 3;
  Sampler s(c, 6);
  std::vector<float> l = {0.1f, 0.3f, 0.2f, 0.9f, 0.85f, -1.0f};
  for (int i = 0; i < 50; i++) EXPECT_EQ(s.sample(l.data(), {}), 3);
}

TEST(Sampler, TopKKeepsOnlyTheKMostLikely) {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_k = 2;
  c.seed = 5;
  Sampler s(c, 5);
  std::vector<float> l = logits_of({0.3, 0.1, 0.25, 0.2, 0.15});
  for (int i = 0; i < 500; i++) {
    const int t = s.sample(l.data(), {});
    EXPECT_TRUE(t == 0 || t == 2) << t;
  }
}

TEST(Sampler, TopPKeepsTheShortestPrefixReachingP) {
  // sorted: 0.5 (id 2), 0.3 (id 0), 0.15 (id 1), 0.05 (id 3); top_p 0.75 keeps ids 2, 0
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_p = 0.75f;
  c.seed = 11;
  Sampler s(c, 4);
  std::vector<float> l = logits_of({0.3, 0.15, 0.5, 0.05});
  std::map<int, int> n;
  for (int i = 0; i < 4000; i++) n[s.sample(l.data(), {})]++;
  EXPECT_EQ(n[1] + n[3], 0);
  EXPECT_NEAR((double)n[2] / 4000, 0.5 / 0.8, 0.03);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.min_p = 0.5f;  // keep p >= 0.5 * 0.4
  c.seed = 13;
  Sampler s(c, 4);
  std::vector<float> l = logits_of({0.4, 0.19, 0.3, 0.11});
  for (int i = 0; i < 1000; i++) {
    const int t = s.sample(l.data(), {});
    EXPECT_TRUE(t == 0 || t == 2) << t;
  }
}

TEST(Sampler, RejectsBadConfigAndNaN) {
  SamplerConfig c;
  c.temperature = -1;
  EXPECT_THROW(Sampler(c, 4), Error);
  c = SamplerConfig{};
  c.top_p = 0;
  EXPECT_THROW(Sampler(c, 4), Error);
  c = SamplerConfig{};
  c.top_k = -2;
  EXPECT_THROW(Sampler(c, 4), Error);
  Sampler s(SamplerConfig{}, 3);
  std::vector<float> l = {0, NAN, 1};
  EXPECT_THROW(s.sample(l.data(), {}), Error);
  std::vector<float> ok = {0, 1, 2};
  EXPECT_THROW(s.sample(ok.data(), {7}), Error) << "history id outside the vocabulary";
}

}  // namespace
}  // namespace gp
