// sampler_math_test.cpp: the GP_HD arithmetic the CPU sampler shares with the
// CUDA sampler (core/sampler_math.h): exp, and steps 6-8 (top-p, min-p, draw).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/sampler_math.h"

namespace gp {
namespace {

// distance in units in the last place between two finite doubles of the same sign
int64_t ulps(double a, double b) {
  int64_t ia, ib;
  std::memcpy(&ia, &a, 8);
  std::memcpy(&ib, &b, 8);
  return ia > ib ? ia - ib : ib - ia;
}

TEST(SamplerMath, ExpWithinTwoUlpsOfLibm) {
  std::mt19937_64 g(42);
  std::uniform_real_distribution<double> wide(-745.0, 709.0), narrow(-40.0, 0.0);
  int64_t worst = 0;
  for (int i = 0; i < 200000; i++) {
    const double x = i % 2 ? wide(g) : narrow(g);
    const double want = std::exp(x);
    if (want < std::numeric_limits<double>::min()) continue;  // subnormal: checked below
    worst = std::max(worst, ulps(sampler_exp(x), want));
  }
  EXPECT_LE(worst, 2);
}

TEST(SamplerMath, ExpExactPointsAndLimits) {
  EXPECT_EQ(sampler_exp(0.0), 1.0);
  EXPECT_EQ(sampler_exp(-0.0), 1.0);
  EXPECT_EQ(sampler_exp(-INFINITY), 0.0);
  EXPECT_EQ(sampler_exp(INFINITY), INFINITY);
  EXPECT_TRUE(std::isnan(sampler_exp(NAN)));
  EXPECT_EQ(sampler_exp(-800.0), 0.0);
  EXPECT_EQ(sampler_exp(710.0), INFINITY);
  EXPECT_NEAR(sampler_exp(1.0), M_E, 2 * M_E * 2.3e-16);
  EXPECT_NEAR(sampler_exp(709.0), std::exp(709.0), std::exp(709.0) * 4.5e-16);  // k = 1023
  // subnormal results: within one unit of the smallest subnormal of libm
  for (double x : {-710.0, -720.5, -740.0, -744.0}) {
    const double got = sampler_exp(x), want = std::exp(x);
    EXPECT_GT(got, 0.0) << x;
    EXPECT_NEAR(got, want, 2 * std::numeric_limits<double>::denorm_min()) << x;
  }
}

TEST(SamplerMath, ExpIsMonotonic) {
  double prev = 0;
  for (double x = -50.0; x <= 0.0; x += 1.0 / 1024) {
    const double e = sampler_exp(x);
    EXPECT_GE(e, prev) << x;
    prev = e;
  }
}

// the walk of step 8 written out for a test: index of the first cumulative > u * total
int walk(const std::vector<double>& p, int n, double u) {
  double total = 0, cum = 0;
  for (int i = 0; i < n; i++) total += p[i];
  for (int i = 0; i < n; i++)
    if ((cum += p[i]) > u * total) return i;
  return n - 1;
}

TEST(SamplerMath, PickWithoutFiltersWalksAllCandidates) {
  const std::vector<double> p = {1.0, 0.5, 0.25, 0.125};
  uint64_t st = 5, mirror = 5;
  for (int i = 0; i < 500; i++) {
    const int got = sampler_pick(p.data(), 4, 1.0f, 0.0f, &st);
    EXPECT_EQ(got, walk(p, 4, uniform01(splitmix64_next(&mirror))));
    EXPECT_EQ(st, mirror) << "one draw per pick";
  }
}

TEST(SamplerMath, PickTopPKeepsShortestPrefix) {
  // normalized: 0.5, 0.35, 0.1, 0.05. top_p 0.8 -> 2 kept (0.5 + 0.35 >= 0.8)
  const std::vector<double> p = {0.5, 0.35, 0.1, 0.05};
  uint64_t st = 1, mirror = 1;
  int seen[4] = {0, 0, 0, 0};
  for (int i = 0; i < 2000; i++) {
    const int got = sampler_pick(p.data(), 4, 0.8f, 0.0f, &st);
    EXPECT_EQ(got, walk(p, 2, uniform01(splitmix64_next(&mirror))));
    seen[got]++;
  }
  EXPECT_GT(seen[0], 0);
  EXPECT_GT(seen[1], 0);
  EXPECT_EQ(seen[2] + seen[3], 0);
}

TEST(SamplerMath, PickMinPCutsRelativeToTheBest) {
  // min_p 0.4: keep p_i >= 0.4 * p_0 -> 1.0, 0.5, 0.45 kept; 0.3 cut
  const std::vector<double> p = {1.0, 0.5, 0.45, 0.3};
  uint64_t st = 9, mirror = 9;
  for (int i = 0; i < 2000; i++)
    EXPECT_EQ(sampler_pick(p.data(), 4, 1.0f, 0.4f, &st),
              walk(p, 3, uniform01(splitmix64_next(&mirror))));
}

TEST(SamplerMath, PickSingleCandidateStillDraws) {
  const double p = 0.7;
  uint64_t st = 3;
  EXPECT_EQ(sampler_pick(&p, 1, 0.5f, 0.9f, &st), 0);
  uint64_t mirror = 3;
  splitmix64_next(&mirror);
  EXPECT_EQ(st, mirror);
}

}  // namespace
}  // namespace gp
