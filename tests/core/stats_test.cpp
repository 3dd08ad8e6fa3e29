// stats_test.cpp: summary statistics and the Mann-Whitney U test (core/stats.h)
// against numpy 2.4.6 / scipy 1.17.1. Every expected number below was computed
// with
//   scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="auto")
//   numpy.median(x), numpy.std(x, ddof=1), numpy.percentile(x, q)
// on exactly the inputs written here (the float inputs are numpy normal draws
// from default_rng(seed), rounded to 3 decimals, pasted in).
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "core/stats.h"

namespace gp {
namespace {

// p-values: scipy's and ours sum the same tail in a different order
constexpr double kPTol = 1e-12;

struct UCase {
  const char* name;
  std::vector<double> x, y;
  double u1, p;
  bool exact;
};

const std::vector<UCase>& u_cases() {
  static const std::vector<UCase> c = {
      {"ExactSeparated", {1.0, 2.5, 3.1}, {4.2, 5.0, 6.3, 7.7}, 0.0, 0.05714285714285714, true},
      {"ExactOverlap", {10.2, 11.5, 9.8, 12.0, 10.9}, {11.1, 12.4, 13.0, 10.5, 12.8}, 5.0, 0.15079365079365079, true},
      // one side has 8 values: scipy still takes the exact distribution
      {"Exact8Vs20",
       {100.691, 101.643, 100.661, 97.394, 101.811, 100.893, 98.926, 101.162},
       {103.378, 101.955, 102.174, 98.117, 106.599, 105.288, 102.349, 104.548, 103.562, 101.892,
        104.955, 102.379, 102.342, 101.416, 103.91, 102.802, 104.091, 101.786, 103.254, 101.215},
       12.0, 0.00016601755732190514, true},
      {"Asymptotic9Each",
       {103.061, 96.167, 100.627, 99.148, 99.321, 99.677, 96.97, 99.652, 98.702},
       {97.022, 97.738, 100.496, 98.989, 95.538, 97.992, 97.065, 98.223, 95.588},
       61.0, 0.07738861114200664, false},
      // ties force the normal approximation with tie correction even when small
      {"TiesSmall", {1, 2, 2, 3}, {2, 3, 3, 4, 5}, 3.0, 0.09934224785346528, false},
      {"AllEqual", {5, 5, 5}, {5, 5, 5}, 4.5, 1.0, false},
      {"TiesSeparated", {7, 7, 7}, {9, 9, 9}, 0.0, 0.04685417760387376, false},
  };
  return c;
}

class MannWhitneyU : public ::testing::TestWithParam<size_t> {};

TEST_P(MannWhitneyU, MatchesScipy) {
  const UCase& c = u_cases()[GetParam()];
  const MannWhitney r = mann_whitney_u(c.x, c.y);
  EXPECT_DOUBLE_EQ(r.u1, c.u1) << c.name;
  EXPECT_NEAR(r.p_value, c.p, kPTol) << c.name;
  EXPECT_EQ(r.exact, c.exact) << c.name;
  // two-sided: swapping the samples gives the same p-value
  EXPECT_NEAR(mann_whitney_u(c.y, c.x).p_value, c.p, kPTol) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Scipy, MannWhitneyU, ::testing::Range<size_t>(0, 7),
                         [](const ::testing::TestParamInfo<size_t>& i) { return std::string(u_cases()[i.param].name); });

TEST(MannWhitneyUMinP, MatchesScipyFullySeparated) {
  // mannwhitneyu(range(n), range(n, 2n)).pvalue; exact up to 8, normal from 9
  const double want[] = {1.0, 0.3333333333333333, 0.1, 0.02857142857142857, 0.007936507936507936,
                         0.0021645021645021645, 0.0005827505827505828, 0.0001554001554001554,
                         0.00041229480206169127, 0.00018267179110955002};
  for (int n = 1; n <= 10; n++) EXPECT_NEAR(mann_whitney_min_p(n, n), want[n - 1], kPTol) << "n = " << n;
}

TEST(MannWhitneyUMinP, RepetitionsNeededForAlpha) {
  EXPECT_EQ(mann_whitney_min_repetitions(0.05), 4);   // 2/C(8,4) = 0.0286; 3 gives 0.1
  EXPECT_EQ(mann_whitney_min_repetitions(0.01), 5);   // 2/C(10,5) = 0.0079
  EXPECT_EQ(mann_whitney_min_repetitions(0.001), 7);  // 2/C(14,7) = 0.00058
  EXPECT_THROW(mann_whitney_min_repetitions(0), Error);
}

TEST(MannWhitneyU, RejectsEmptyAndNonFinite) {
  EXPECT_THROW(mann_whitney_u({}, {1.0}), Error);
  EXPECT_THROW(mann_whitney_u({1.0, 0.0 / 0.0}, {1.0}), Error);
}

TEST(SummaryStats, MatchNumpy) {
  const std::vector<double> x = {3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.6};
  EXPECT_DOUBLE_EQ(median(x), 3.0);
  EXPECT_NEAR(stddev(x), 2.6985886964079855, 1e-14);
  EXPECT_NEAR(percentile(x, 90), 6.600000000000001, 1e-12);
  EXPECT_NEAR(percentile(x, 99), 8.759999999999998, 1e-12);
  EXPECT_NEAR(percentile(x, 10), 1.3, 1e-12);
  EXPECT_DOUBLE_EQ(median({2.0, 1.0}), 1.5);
  EXPECT_DOUBLE_EQ(stddev({4.0}), 0.0);
  EXPECT_DOUBLE_EQ(mean({1.0, 2.0, 6.0}), 3.0);
  EXPECT_THROW(median({}), Error);
  EXPECT_THROW(percentile(x, 101), Error);
}

}  // namespace
}  // namespace gp
