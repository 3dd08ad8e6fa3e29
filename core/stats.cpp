// stats.cpp: summary statistics and the Mann-Whitney U test (stats.h).
// U test after scipy.stats.mannwhitneyu and its reference, Mann & Whitney
// (1947); the exact null distribution of U is the coefficient list of the
// Gaussian binomial [n1 + n2 choose n1]_q (U counts the pairs x > y).
#include "core/stats.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace gp {

double median(std::vector<double> x) { return percentile(std::move(x), 50); }

double mean(const std::vector<double>& x) {
  GP_CHECK(!x.empty(), "mean of an empty sample");
  double s = 0;
  for (double v : x) s += v;
  return s / x.size();
}

double stddev(const std::vector<double>& x) {
  GP_CHECK(!x.empty(), "stddev of an empty sample");
  if (x.size() < 2) return 0;
  const double m = mean(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / (x.size() - 1));
}

double percentile(std::vector<double> x, double q) {
  GP_CHECK(!x.empty(), "percentile of an empty sample");
  GP_CHECK(q >= 0 && q <= 100, "percentile ", q, " is outside [0, 100]");
  std::sort(x.begin(), x.end());
  const double pos = q / 100 * (x.size() - 1);
  const size_t lo = (size_t)std::floor(pos);
  const size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (pos - lo) * (x[hi] - x[lo]);
}

namespace {

// P(U = k) for k in [0, m*n] under H0 (no ties), m = min(n1, n2) kept small.
// Builds [n+i choose i]_q for i = 1..m: multiply by (1 - q^(n+i)), divide by
// (1 - q^i) (a strided prefix sum), and rescale by i / (n+i) so the
// coefficients stay probabilities instead of growing like binomials.
std::vector<double> u_pmf(int n1, int n2) {
  const int m = std::min(n1, n2), n = std::max(n1, n2);
  const size_t size = (size_t)m * n + 1;
  std::vector<double> c(size, 0.0);
  c[0] = 1;
  for (int i = 1; i <= m; i++) {
    for (size_t k = size; k-- > (size_t)(n + i);) c[k] -= c[k - n - i];
    for (size_t k = i; k < size; k++) c[k] += c[k - i];
    const double scale = (double)i / (n + i);
    for (double& v : c) v *= scale;
  }
  return c;
}

// P(U >= k) under H0, summed from the side where the tail is small.
double u_sf(int n1, int n2, double k) {
  const std::vector<double> pmf = u_pmf(n1, n2);
  const double total = (double)n1 * n2;
  const long kk = (long)std::ceil(k);
  if (kk <= 0) return 1;
  if (kk > (long)total) return 0;
  // by symmetry P(U >= k) = P(U <= n1*n2 - k)
  const long kc = (long)total - kk;
  double s = 0;
  if (kk > kc) {
    for (long j = 0; j <= kc; j++) s += pmf[j];
    return s;
  }
  for (long j = 0; j < kk; j++) s += pmf[j];
  return 1 - s;
}

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

}  // namespace

MannWhitney mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y) {
  GP_CHECK(!x.empty() && !y.empty(), "Mann-Whitney U test needs at least one value on each side (got ",
           x.size(), " and ", y.size(), ")");
  const int n1 = (int)x.size(), n2 = (int)y.size();
  const double n = n1 + n2;
  // average ranks (1-based) of the pooled sample, and the tie groups
  std::vector<std::pair<double, int>> all;  // value, 0 = x / 1 = y
  for (int side = 0; side < 2; side++)
    for (double v : side ? y : x) {
      GP_CHECK(std::isfinite(v), "Mann-Whitney U test of a non-finite value");
      all.push_back({v, side});
    }
  std::sort(all.begin(), all.end());
  double r1 = 0, tie_term = 0;
  bool ties = false;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) j++;
    const double t = (double)(j - i), rank = (i + 1 + j) / 2.0;  // mean of ranks i+1..j
    for (size_t k = i; k < j; k++)
      if (all[k].second == 0) r1 += rank;
    tie_term += t * t * t - t;
    ties = ties || t > 1;
    i = j;
  }
  MannWhitney r;
  r.u1 = r1 - n1 * (n1 + 1) / 2.0;
  const double u = std::max(r.u1, (double)n1 * n2 - r.u1);
  r.exact = !(n1 > 8 && n2 > 8) && !ties;
  double p;
  if (r.exact) {
    p = 2 * u_sf(n1, n2, u);
  } else {
    const double mu = n1 * (double)n2 / 2;
    const double s = std::sqrt(n1 * (double)n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))));
    const double num = u - mu - 0.5;  // continuity correction
    // all values equal: s = 0, num < 0, z = -inf, p = 1 (as scipy)
    const double z = s > 0 ? num / s : (num < 0 ? -INFINITY : INFINITY);
    p = 2 * normal_sf(z);
  }
  r.p_value = std::clamp(p, 0.0, 1.0);
  return r;
}

double mann_whitney_min_p(int n1, int n2) {
  GP_CHECK(n1 >= 1 && n2 >= 1, "Mann-Whitney U test needs at least one value on each side");
  std::vector<double> x(n1), y(n2);
  for (int i = 0; i < n1; i++) x[i] = i;
  for (int i = 0; i < n2; i++) y[i] = n1 + i;
  return mann_whitney_u(x, y).p_value;
}

int mann_whitney_min_repetitions(double alpha) {
  GP_CHECK(alpha > 0 && alpha < 1, "alpha ", alpha, " is outside (0, 1)");
  for (int n = 1; n <= 1000; n++)
    if (mann_whitney_min_p(n, n) < alpha) return n;
  fail("alpha ", alpha, " needs more than 1000 repetitions per side");
}

}  // namespace gp
