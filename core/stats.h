// stats.h: summary statistics of benchmark repetitions and the Mann-Whitney U
// test that `goldpath compare` gates regressions with. Definitions follow
// numpy (percentile: linear interpolation, numpy's default) and scipy
// (stats.mannwhitneyu, two-sided, method="auto": the exact null distribution
// when one sample has at most 8 values and there are no ties, else the normal
// approximation with tie and continuity correction).
#pragma once
#include <vector>

namespace gp {

// x: (n), n >= 1; throws gp::Error on an empty sample
double median(std::vector<double> x);
double mean(const std::vector<double>& x);
// sample standard deviation (n - 1 in the denominator; 0 for one value)
double stddev(const std::vector<double>& x);
// q in [0, 100]; linear interpolation between closest ranks (numpy "linear")
double percentile(std::vector<double> x, double q);

struct MannWhitney {
  double u1 = 0;        // U statistic of the first sample (scipy's `statistic`)
  double p_value = 1;   // two-sided
  bool exact = false;   // exact null distribution (else normal approximation)
};

// Two-sided Mann-Whitney U test of x: (n1) against y: (n2), n1, n2 >= 1.
MannWhitney mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y);

// The smallest two-sided p-value any data can give with samples of sizes
// n1, n2 (both samples fully separated, no ties).
double mann_whitney_min_p(int n1, int n2);

// The smallest n such that n repetitions on each side can reach p < alpha.
int mann_whitney_min_repetitions(double alpha);

}  // namespace gp
